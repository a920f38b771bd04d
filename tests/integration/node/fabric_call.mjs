// One evaluate or submit through the official Fabric Gateway client for Node, signed by the
// identity named in the request, so that tests can check what Fabric itself accepts from any
// client, not only from ours. Reads one JSON request on stdin:
//   {"peer_endpoint", "peer_host_override", "peer_tls_ca", "tls_cert", "tls_key", "msp_id",
//    "cert", "key", "channel", "chaincode", "transaction", "arguments": [..], "submit": false}
// and prints one JSON line: {"ok": true, "result": "<text>"} or, when Fabric refuses,
// {"ok": false, "code": <gRPC status>, "code_name", "message", "details": [{address, msp_id,
// message}]}. Any other failure (bad request, missing file) exits non-zero.
//
// The client is the one pinned for the benchmarks (benchmarks/node, installed by
// scripts/bootstrap): one package setup for the official client in the project.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../../benchmarks/node/package.json', import.meta.url));
const grpc = require('@grpc/grpc-js');
const { connect, signers, GatewayError } = require('@hyperledger/fabric-gateway');

const request = JSON.parse(readFileSync(0, 'utf8'));
const options = request.peer_host_override
    ? { 'grpc.ssl_target_name_override': request.peer_host_override } : {};
const client = new grpc.Client(request.peer_endpoint, grpc.credentials.createSsl(
    readFileSync(request.peer_tls_ca), readFileSync(request.tls_key),
    readFileSync(request.tls_cert)), options);
const gateway = connect({
    client,
    identity: { mspId: request.msp_id, credentials: readFileSync(request.cert) },
    signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(request.key))),
});
const contract = gateway.getNetwork(request.channel).getContract(request.chaincode);
const call = request.submit ? contract.submitTransaction : contract.evaluateTransaction;
try {
    const result = await call.call(contract, request.transaction, ...(request.arguments ?? []));
    console.log(JSON.stringify({ ok: true, result: new TextDecoder().decode(result) }));
} catch (err) {
    if (!(err instanceof GatewayError)) {
        throw err;
    }
    console.log(JSON.stringify({
        ok: false, code: err.code, code_name: grpc.status[err.code], message: err.message,
        details: err.details.map((d) => ({ address: d.address, msp_id: d.mspId, message: d.message })),
    }));
} finally {
    gateway.close();
    client.close();
}
