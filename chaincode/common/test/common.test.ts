import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { createHash } from 'node:crypto';
import {
    addMonths, CarbonContract, canonicalJson, codePointLength, expectArgs, getRoles, parseDate, parseIntArg, parseJsonArg,
    parseObjectArg, previousDay, readInt, readPrivateJson, readText, requireRole, roundHalfAwayFromZero, setRoles,
    toSafeNumber, transientObject, writePrivateJson,
} from '../src';
import { CLIENT_MULTI_OU_CERT, NO_OU_CERT } from './certs';
import { admin, at, client, codeOf, FakeLedger, peer } from './harness';

describe('roundHalfAwayFromZero', () => {
    const cases: [bigint, bigint, bigint][] = [
        [5n, 2n, 3n], [-5n, 2n, -3n], [7n, 3n, 2n], [-7n, 3n, -2n], [8n, 3n, 3n], [-8n, 3n, -3n],
        [1n, 2n, 1n], [-1n, 2n, -1n], [1n, 3n, 0n], [-1n, 3n, 0n], [0n, 5n, 0n], [5n, -2n, -3n], [-5n, -2n, 3n],
        [10n ** 30n + 1n, 2n, 5n * 10n ** 29n + 1n],
    ];
    for (const [num, den, expected] of cases) {
        it(`${num}/${den} -> ${expected}`, () => assert.equal(roundHalfAwayFromZero(num, den), expected));
    }
    it('refuses division by zero', () => assert.throws(() => roundHalfAwayFromZero(1n, 0n), RangeError));
});

describe('canonical JSON', () => {
    it('sorts keys at every depth and keeps the order of arrays of objects and numbers', () => {
        assert.equal(canonicalJson({ b: [{ z: 1, a: [3, 1] }, { y: null }], a: 'x' }),
            '{"a":"x","b":[{"a":[3,1],"z":1},{"y":null}]}');
    });
    it('serialises null and strings', () => {
        assert.equal(canonicalJson(null), 'null');
        assert.equal(canonicalJson('a"b'), '"a\\"b"');
    });
    it('is independent of insertion order', () =>
        assert.equal(canonicalJson({ a: 1, b: { d: 2, c: 3 } }), canonicalJson({ b: { c: 3, d: 2 }, a: 1 })));
    it('refuses integers beyond 2^53-1', () => {
        assert.equal(toSafeNumber(2n ** 53n - 1n, 'x'), Number.MAX_SAFE_INTEGER);
        assert.throws(() => toSafeNumber(2n ** 53n, 'x'), (e: Error) => e.message.startsWith('INVALID_ARGUMENT: x: '));
    });
});

describe('argument readers', () => {
    const bad: [string, () => unknown][] = [
        ['float', () => readInt(1.5, 'f', 0, 10)],
        ['string integer', () => readInt('1', 'f', 0, 10)],
        ['below range', () => readInt(-1, 'f', 0, 10)],
        ['above range', () => readInt(11, 'f', 0, 10)],
        ['unsafe integer', () => readInt(2 ** 53, 'f', 0, 2 ** 60)],
        ['decimal arg with sign only', () => parseIntArg('-', 'f', 0, 10)],
        ['decimal arg with leading zero', () => parseIntArg('01', 'f', 0, 10)],
        ['decimal arg with exponent', () => parseIntArg('1e3', 'f', 0, 5000)],
        ['not a date', () => parseDate('2025-1-01', 'd')],
        ['30 February', () => parseDate('2024-02-30', 'd')],
        ['29 February of a non-leap year', () => parseDate('2100-02-29', 'd')],
        ['wrong argument count', () => expectArgs(['a'], ['x', 'y'])],
    ];
    for (const [name, call] of bad) {
        it(`refuses ${name} with INVALID_ARGUMENT`, () => assert.throws(call, (e: Error) => e.message.startsWith('INVALID_ARGUMENT: ')));
    }
    it('reads dates and month arithmetic', () => {
        assert.deepEqual(parseDate('2024-02-29', 'd'), { year: 2024, month: 2, day: 29 });
        assert.deepEqual(addMonths({ year: 2024, month: 11, day: 28 }, 3), { year: 2025, month: 2, day: 28 });
        assert.deepEqual(previousDay({ year: 2025, month: 3, day: 1 }), { year: 2025, month: 2, day: 28 });
        assert.deepEqual(previousDay({ year: 2025, month: 1, day: 1 }), { year: 2024, month: 12, day: 31 });
    });
});

// Which inputs are valid is golden/validation.json's job (lease/test/validation-table.test.ts);
// these check what the errors say, since a caller fixes a request from the message.
describe('text and JSON argument errors', () => {
    const refusal = (call: () => unknown): string => {
        try {
            call();
        } catch (error) {
            return (error as Error).message;
        }
        return 'accepted';
    };
    it('names the field and the character', () => {
        assert.equal(refusal(() => readText('a\u0000', 'name', 1, 10)),
            'INVALID_ARGUMENT: name: must not contain control character U+0000');
        assert.equal(refusal(() => readText('a\r\n', 'reason', 1, 10, 'multi')),
            'INVALID_ARGUMENT: reason: must not contain control character U+000D (line feed U+000A is the only one allowed)');
        assert.equal(refusal(() => readText('\ud800', 'name', 1, 10)),
            'INVALID_ARGUMENT: name: must be well-formed Unicode (it holds a lone UTF-16 surrogate)');
        assert.equal(refusal(() => readText('\u{1F600}'.repeat(3), 'name', 1, 2)),
            'INVALID_ARGUMENT: name: must be at most 2 characters (Unicode code points), got 3');
    });
    it('counts code points', () => {
        assert.equal(codePointLength(''), 0);
        assert.equal(codePointLength('\u{1F600}a\u6df1'), 3);
        assert.equal(codePointLength('e\u0301'), 2);
    });
    it('names where in a JSON argument the problem is', () => {
        assert.equal(refusal(() => parseJsonArg('{"terms":{"ratchet":[{"a":1},{"a":"\\udfff"}]}}', 'lease_json')),
            'INVALID_ARGUMENT: lease_json.terms.ratchet[1].a: must be well-formed Unicode (it holds a lone UTF-16 surrogate)');
        assert.equal(refusal(() => parseJsonArg('{"x":{"a b":[1.5]}}', 'arg')),
            'INVALID_ARGUMENT: arg.x["a b"][0]: numbers must be JSON integers, written without fraction or exponent');
        assert.equal(refusal(() => parseJsonArg('{"x":{"n":1,"n":2}}', 'arg')), 'INVALID_ARGUMENT: arg.x: duplicate key "n"');
        assert.equal(refusal(() => parseJsonArg('{"\\ud800":1}', 'arg')),
            'INVALID_ARGUMENT: arg (a key): must be well-formed Unicode (it holds a lone UTF-16 surrogate)');
        assert.equal(refusal(() => parseJsonArg('['.repeat(100_000) + ']'.repeat(100_000), 'arg')),
            'INVALID_ARGUMENT: arg: nests deeper than 16 levels');
        assert.equal(refusal(() => parseJsonArg(`[${'9'.repeat(5000)}]`, 'arg')), 'accepted');
    });
    it('quotes unknown keys instead of echoing them raw', () => {
        assert.equal(refusal(() => parseObjectArg('{"a":1,"\\u0000x\\n":2}', 'arg', ['a'])),
            'INVALID_ARGUMENT: arg: unknown field(s): "\\u0000x\\n"');
    });
});

/** A minimal contract to exercise the shared roles logic the way both chaincodes use it. */
class RolesContract extends CarbonContract {
    async SetRoles(ctx: Context, rolesJson: string): Promise<string> {
        return setRoles(ctx, rolesJson);
    }

    async GetRoles(ctx: Context): Promise<string> {
        return getRoles(ctx);
    }

    async LessorWrite(ctx: Context): Promise<string> {
        const caller = await requireRole(ctx, 'lessor');
        await ctx.stub.putState('x', Buffer.from('1'));
        return caller.mspId;
    }
}

const ROLES = { lessor: ['LessorMSP'], grid: ['GridMSP'], regulator: ['RegulatorMSP'], partner: ['MacaoPartnerMSP', 'HKPartnerMSP'] };
const T = at('2025-01-01');

describe('SetRoles / GetRoles / role checks', () => {
    const contract = new RolesContract();

    it('before any SetRoles: role-gated writes and GetRoles fail with ROLES_NOT_SET', async () => {
        const ledger = new FakeLedger();
        const write = await ledger.invoke(contract, 'LessorWrite', [], client('LessorMSP'), T);
        assert.equal(codeOf(write), 'ROLES_NOT_SET');
        assert.deepEqual(write.writes, []);
        assert.equal(codeOf(await ledger.invoke(contract, 'GetRoles', [], client('LessorMSP'), T)), 'ROLES_NOT_SET');
    });

    it('first SetRoles: any admin; stores sorted lists and a key-level policy of lessor AND regulator peers', async () => {
        const ledger = new FakeLedger();
        const result = await ledger.invoke(contract, 'SetRoles', [JSON.stringify(ROLES)], admin('HKPartnerMSP'), T);
        assert.equal(result.ok, true, result.error);
        const stored = JSON.parse(result.payload);
        assert.deepEqual(stored.partner, ['HKPartnerMSP', 'MacaoPartnerMSP']);
        assert.equal(stored.version, 1);
        assert.equal(stored.updated_by_msp, 'HKPartnerMSP');
        assert.equal(result.event?.name, 'RolesSet');
        const policy = new KeyEndorsementPolicy(ledger.validationParameters.get('roles'));
        assert.deepEqual(policy.listOrgs().sort(), ['LessorMSP', 'RegulatorMSP']);
        const roles = await ledger.invoke(contract, 'GetRoles', [], client('GridMSP'), T);
        assert.equal(roles.payload, result.payload);
    });

    const permissionCases: { name: string; caller: ReturnType<typeof admin>; code: string }[] = [
        { name: 'a lessor admin may change roles', caller: admin('LessorMSP'), code: 'OK' },
        { name: 'a regulator admin may change roles', caller: admin('RegulatorMSP'), code: 'OK' },
        { name: 'a lessor client may not', caller: client('LessorMSP'), code: 'FORBIDDEN' },
        { name: 'a partner admin may not once roles exist', caller: admin('HKPartnerMSP'), code: 'FORBIDDEN' },
        { name: 'a grid admin may not', caller: admin('GridMSP'), code: 'FORBIDDEN' },
    ];
    for (const c of permissionCases) {
        it(`later SetRoles: ${c.name}`, async () => {
            const ledger = new FakeLedger();
            await ledger.invoke(contract, 'SetRoles', [JSON.stringify(ROLES)], admin('LessorMSP'), T);
            const joined = { ...ROLES, partner: [...ROLES.partner, 'ShenzhenPartnerMSP'] };
            const result = await ledger.invoke(contract, 'SetRoles', [JSON.stringify(joined)], c.caller, T);
            assert.equal(codeOf(result), c.code, result.error);
            if (c.code === 'OK') {
                assert.deepEqual(JSON.parse(result.payload).partner, ['HKPartnerMSP', 'MacaoPartnerMSP', 'ShenzhenPartnerMSP']);
                assert.equal(JSON.parse(result.payload).version, 2);
            } else {
                assert.deepEqual(result.writes, []);
            }
        });
    }

    it('the first SetRoles still needs an admin identity', async () => {
        const ledger = new FakeLedger();
        const result = await ledger.invoke(contract, 'SetRoles', [JSON.stringify(ROLES)], client('LessorMSP'), T);
        assert.equal(codeOf(result), 'FORBIDDEN');
        assert.deepEqual(result.writes, []);
    });

    const badRoles: [string, string][] = [
        ['not JSON', '{'],
        ['a list', '[]'],
        ['missing partner', JSON.stringify({ lessor: ['A'], grid: [], regulator: ['B'] })],
        ['unknown role', JSON.stringify({ ...ROLES, auditor: ['X'] })],
        ['empty lessor', JSON.stringify({ ...ROLES, lessor: [] })],
        ['empty regulator', JSON.stringify({ ...ROLES, regulator: [] })],
        ['MSP id not a string', JSON.stringify({ ...ROLES, grid: [7] })],
        ['MSP id with a colon', JSON.stringify({ ...ROLES, grid: ['Grid:MSP'] })],
        ['role not a list', JSON.stringify({ ...ROLES, grid: 'GridMSP' })],
    ];
    for (const [name, rolesJson] of badRoles) {
        it(`SetRoles refuses ${name} with INVALID_ARGUMENT and writes nothing`, async () => {
            const ledger = new FakeLedger();
            const result = await ledger.invoke(contract, 'SetRoles', [rolesJson], admin('LessorMSP'), T);
            assert.equal(codeOf(result), 'INVALID_ARGUMENT', result.error);
            assert.deepEqual(result.writes, []);
        });
    }

    const callerCases: { name: string; caller: { msp: string; cert?: string }; code: string }[] = [
        { name: 'lessor client', caller: client('LessorMSP'), code: 'OK' },
        { name: 'lessor admin', caller: admin('LessorMSP'), code: 'OK' },
        { name: 'lessor client with a second OU', caller: { msp: 'LessorMSP', cert: CLIENT_MULTI_OU_CERT }, code: 'OK' },
        { name: 'lessor peer identity', caller: peer('LessorMSP'), code: 'FORBIDDEN' },
        { name: 'lessor identity without NodeOU', caller: { msp: 'LessorMSP', cert: NO_OU_CERT }, code: 'FORBIDDEN' },
        { name: 'lessor identity with a broken certificate', caller: { msp: 'LessorMSP', cert: 'garbage' }, code: 'FORBIDDEN' },
        { name: 'grid client', caller: client('GridMSP'), code: 'FORBIDDEN' },
    ];
    for (const c of callerCases) {
        it(`requireRole(lessor): ${c.name} -> ${c.code}`, async () => {
            const ledger = new FakeLedger();
            await ledger.invoke(contract, 'SetRoles', [JSON.stringify(ROLES)], admin('LessorMSP'), T);
            const result = await ledger.invoke(contract, 'LessorWrite', [], c.caller, T);
            assert.equal(codeOf(result), c.code, result.error);
        });
    }

    it('an unknown transaction name is INVALID_ARGUMENT', async () => {
        const result = await new FakeLedger().invoke(contract, 'NoSuchThing', [], client('LessorMSP'), T);
        assert.equal(codeOf(result), 'INVALID_ARGUMENT');
    });
});

/** Private data helpers against the harness's model of the peer. */
class VaultContract extends CarbonContract {
    async Store(ctx: Context): Promise<string> {
        const secret = transientObject(ctx, 'secret', ['text']);
        return writePrivateJson(ctx, 'vault', 'k', secret);
    }

    async Read(ctx: Context): Promise<string> {
        return canonicalJson(await readPrivateJson(ctx, 'vault', 'k'));
    }
}

describe('private data: transient in, hash out, members only', () => {
    const vault = new VaultContract();
    const newLedger = (): FakeLedger => {
        const ledger = new FakeLedger();
        ledger.collections.set('vault', ['LessorMSP', 'RegulatorMSP']);
        return ledger;
    };

    it('stores the transient value and answers the SHA-256 of the stored bytes', async () => {
        const ledger = newLedger();
        const stored = await ledger.invoke(vault, 'Store', [], client('LessorMSP'), T, { secret: '{"text":"x"}' });
        assert.equal(stored.ok, true, stored.error);
        assert.equal(stored.payload, createHash('sha256').update('{"text":"x"}').digest('hex'));
        assert.deepEqual(stored.writes, ['private:vault:k']);
        assert.equal((await ledger.invoke(vault, 'Read', [], client('RegulatorMSP'), T)).payload, '{"text":"x"}');
    });

    it('a missing or malformed transient entry is INVALID_ARGUMENT and writes nothing', async () => {
        const transients: Record<string, string | Uint8Array>[] = [{}, { secret: '' }, { secret: '{"text":1,"x":2}' },
            { secret: '[' }, { secret: Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) }];
        for (const transient of transients) {
            const result = await newLedger().invoke(vault, 'Store', [], client('LessorMSP'), T, transient);
            assert.equal(codeOf(result), 'INVALID_ARGUMENT', JSON.stringify(transient));
            assert.deepEqual(result.writes, []);
        }
    });

    it('transient JSON is read as strictly as a JSON argument', async () => {
        const refusals: [string, string][] = [
            ['{"text":"a","text":"b"}', 'INVALID_ARGUMENT: transient secret: duplicate key "text"'],
            ['{"text":"\\ud800"}', 'INVALID_ARGUMENT: transient secret.text: must be well-formed Unicode (it holds a lone UTF-16 surrogate)'],
            ['{"text":1.0}', 'INVALID_ARGUMENT: transient secret.text: numbers must be JSON integers, written without fraction or exponent'],
        ];
        for (const [secret, error] of refusals) {
            const result = await newLedger().invoke(vault, 'Store', [], client('LessorMSP'), T, { secret });
            assert.equal(result.error, error, secret);
            assert.deepEqual(result.writes, []);
        }
    });

    it("a non-member's read is refused by the peer: FORBIDDEN naming the collection", async () => {
        const ledger = newLedger();
        await ledger.invoke(vault, 'Store', [], client('LessorMSP'), T, { secret: '{"text":"x"}' });
        const refused = await ledger.invoke(vault, 'Read', [], client('HKPartnerMSP'), T);
        assert.equal(codeOf(refused), 'FORBIDDEN');
        assert.match(refused.error, /collection vault .* tx creator does not have read access permission/);
        const write = await ledger.invoke(vault, 'Store', [], client('GridMSP'), T, { secret: '{"text":"y"}' });
        assert.match(write.error, /does not have write access permission/);
    });

    it('a peer outside the collection holds no value: null, not an error', async () => {
        const ledger = newLedger();
        await ledger.invoke(vault, 'Store', [], client('LessorMSP'), T, { secret: '{"text":"x"}' });
        ledger.peerMsp = 'GridMSP';
        assert.equal((await ledger.invoke(vault, 'Read', [], client('LessorMSP'), T)).payload, 'null');
    });
});
