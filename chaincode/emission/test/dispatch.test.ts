/**
 * Goes through fabric-shim's real dispatcher, the code path of a running chaincode server:
 * the package main is loaded the way `fabric-chaincode-node server` loads it, arguments arrive as
 * raw strings (no decorators, so no JSON coercion and no count check of the contract API), a
 * returned string goes on the wire as its bytes, and errors come back as `CODE: text`.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ADMIN_CERT } from '@carbonlease/common/dist/test/certs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Bootstrap = require('fabric-shim/lib/contract-spi/bootstrap');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract');

interface ShimResponse { status: number; message: string; payload?: Uint8Array }

function stubFor(args: (string | Uint8Array)[], state: Map<string, Uint8Array>) {
    return {
        getBufferArgs: () => args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a))),
        getTxID: () => 'tx1',
        getChannelID: () => 'carbonlease',
        getCreator: () => ({ mspid: 'LessorMSP', idBytes: Buffer.from(ADMIN_CERT) }),
        getFunctionAndParameters: () => ({ fcn: args[0], params: args.slice(1) }),
        getDateTimestamp: () => new Date('2025-01-01T00:00:00Z'),
        getState: async (key: string) => state.get(key) ?? Buffer.alloc(0),
        putState: async (key: string, value: Uint8Array) => { state.set(key, value); },
        setStateValidationParameter: async () => undefined,
        setEvent: () => undefined,
        createCompositeKey: (type: string, attributes: string[]) => `\u0000${type}\u0000${attributes.join('\u0000')}\u0000`,
    };
}

describe('fabric-shim dispatch of the emission package', () => {
    const modulePath = path.resolve(__dirname, '../..');
    const { contracts, serializers, title, version } = Bootstrap.getInfoFromContract(modulePath);
    const chaincode = new ChaincodeFromContract(contracts, serializers, {}, title, version);
    const invoke = (args: (string | Uint8Array)[], state = new Map<string, Uint8Array>()): Promise<ShimResponse> =>
        chaincode.invokeFunctionality(stubFor(args, state));

    it('exposes every transaction', () => {
        const names = chaincode.metadata.contracts.emission.transactions.map((t: { name: string }) => t.name);
        assert.deepEqual(names.sort(), ['GetFactor', 'GetHistory', 'GetMeterReading', 'GetReport', 'GetRoles',
            'GetVerifiedReportForPeriod', 'ListReportsByLessee', 'PublishFactor', 'RejectReport', 'SetRoles',
            'SubmitMeterReading', 'SubmitReport', 'VerifyReport']);
    });

    it('passes a JSON argument as a raw string and returns canonical JSON bytes', async () => {
        const state = new Map<string, Uint8Array>();
        const roles = '{"partner":[],"regulator":["RegulatorMSP"],"lessor":["LessorMSP"],"grid":["GridMSP"]}';
        const response = await invoke(['SetRoles', roles], state);
        assert.equal(response.status, 200, response.message);
        assert.equal(Buffer.from(response.payload!).toString(),
            '{"grid":["GridMSP"],"lessor":["LessorMSP"],"partner":[],"regulator":["RegulatorMSP"],' +
            '"updated_at":"2025-01-01T00:00:00.000Z","updated_by_msp":"LessorMSP","version":1}');
    });

    const failures: [(string | Uint8Array)[], RegExp][] = [
        [['GetFactor', 'GD-SZ'], /^INVALID_ARGUMENT: arguments: expected 2 argument\(s\) \(region, year\), got 1$/],
        [['GetFactor', 'GD-SZ', '2025', 'extra'], /^INVALID_ARGUMENT: arguments: /],
        [['GetFactor', 'GD-SZ', '2025'], /^NOT_FOUND: /],
        [['PublishFactor', '{"region":"GD-SZ","year":2025,"factor_g_per_kwh":581}'], /^ROLES_NOT_SET: /],
        [['NoSuchTransaction'], /^INVALID_ARGUMENT: function: /],
        // The shim would have read these bytes as 'GD\uFFFD' and 'GD\uFFFD\uFFFD\uFFFD'.
        [['GetFactor', Buffer.from([0x47, 0x44, 0xff]), '2025'], /^INVALID_ARGUMENT: argument 1: is not valid UTF-8$/],
        [['RejectReport', 'rep1', Buffer.from([0x47, 0x44, 0xed, 0xa0, 0x80])], /^INVALID_ARGUMENT: argument 2: is not valid UTF-8$/],
    ];
    for (const [args, message] of failures) {
        it(`${args.map(String).join(' ')} -> ${message}`, async () => {
            const response = await invoke(args);
            assert.equal(response.status, 500);
            assert.match(response.message, message);
        });
    }
});
