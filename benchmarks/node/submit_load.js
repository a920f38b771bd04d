// Submits RegisterProject transactions through the official Fabric Gateway client for Node and
// prints one JSON line of figures. The Python benchmark runs this next to the same load sent
// through the REST gateway, on the same network, in the same run.
//   node submit_load.js <status.json> <msp id> <count> <concurrency> <id prefix>
import * as grpc from '@grpc/grpc-js';
import { connect, signers } from '@hyperledger/fabric-gateway';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [statusFile, mspId, count, concurrency, prefix] = process.argv.slice(2);
const status = JSON.parse(readFileSync(statusFile, 'utf8'));
const client = status.clients[mspId];

const credentials = grpc.credentials.createSsl(
    readFileSync(client.peer_tls_ca), readFileSync(client.tls_key), readFileSync(client.tls_cert));
const grpcClient = new grpc.Client(client.peer_endpoint, credentials);
const gateway = connect({
    client: grpcClient,
    identity: { mspId, credentials: readFileSync(client.cert) },
    signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(client.key))),
});
const contract = gateway.getNetwork(status.channel).getContract('lease');

const total = Number(count);
let next = 0;
const latencies = [];
async function worker() {
    while (next < total) {
        const i = next++;
        const project = {
            project_id: `${prefix}-${i}`, name: 'benchmark', category: 'clean_energy',
            expected_annual_reduction_kg: 1000, location: 'Zhuhai',
        };
        const started = performance.now();
        await contract.submitTransaction('RegisterProject', JSON.stringify(project));
        latencies.push(performance.now() - started);
    }
}

const started = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
console.log(JSON.stringify({
    client: 'node-fabric-gateway', count: total, concurrency: Number(concurrency), seconds,
    per_second: total / seconds, median_ms: pick(0.5), p99_ms: pick(0.99),
}));
gateway.close();
grpcClient.close();
