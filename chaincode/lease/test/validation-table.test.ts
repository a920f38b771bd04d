/**
 * Runs golden/validation.json, the table of good and bad inputs shared with the gateway's tests
 * (tests/unit/api/test_validation_table.py), through the real transactions of both chaincodes:
 * every case on a fresh fake ledger, a valid one must commit, an invalid one must be
 * INVALID_ARGUMENT naming the field and must not try to write. The private part of a lease
 * (lessee, terms, termination reason) goes in as transient data, as the gateway sends it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseJsonArg } from '@carbonlease/common';
import { admin, at, Caller, client, codeOf, FakeLedger, TxResult } from '@carbonlease/common/dist/test/harness';
import { EmissionContract } from '@carbonlease/emission';
import { Contract } from 'fabric-contract-api';
import { LeaseContract } from '../src';
import { TERMS_COLLECTION } from '../src/keys';
import { FLOATING_TERMS } from './fixtures';

interface Case { value?: unknown; json?: string; repeat?: string; times?: number; valid: boolean; why?: string }
/** A field of the JSON argument, a positional argument, or a field of a transient entry's JSON. */
interface Target { transaction: string; field?: string; argument?: string; transient?: string }
interface Rule { rule: string; chaincode: Target[]; cases: Case[] }
interface Table { rules: Rule[]; documents: { json: string; valid: boolean; why?: string }[] }

// dist/test -> the repository root
const TABLE = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../golden/validation.json'), 'utf8')) as Table;

const lease = new LeaseContract();
const emission = new EmissionContract();
const ROLES = { lessor: ['LessorMSP'], grid: ['GridMSP'], regulator: ['RegulatorMSP'], partner: ['HKPartnerMSP'] };
const LESSOR = client('LessorMSP');
const REGULATOR = client('RegulatorMSP');
const HK = client('HKPartnerMSP');
const T = at('2025-06-01');
const PROJECT = { project_id: 'project-0', name: 'Shenzhen rooftop PV', category: 'clean_energy', expected_annual_reduction_kg: 1, location: 'Shenzhen' };
const REPORT = { report_id: 'rep1', lessee_id: 'L1', period_start: '2025-01-01', period_end: '2025-04-01', scope1_kg: 1, meter_reading_ids: [], evidence_sha256: 'a'.repeat(64) };
const FACTOR = { region: 'GD-SZ', year: 2025, factor_g_per_kwh: 581 };
const LEASE = { lease_id: 'LS1', project_id: 'project-0', lessee_ref: 'REF1' };
const LEASE_PRIVATE = { lessee_id: 'L1', lessee_name: 'Nansha Steel Co.', terms: FLOATING_TERMS, salt: 'a1'.repeat(32) };

/** The case as the JSON text a client would put in an argument. */
function jsonText(testCase: Case): string {
    if (testCase.json !== undefined) {
        return testCase.json;
    }
    return JSON.stringify(testCase.repeat !== undefined ? testCase.repeat.repeat(testCase.times!) : testCase.value);
}

/**
 * A string as the bytes a client sends: UTF-8, except that a lone surrogate goes out as its
 * 3-byte WTF-8 form (what Python's 'surrogatepass' writes), which is not UTF-8.
 */
function wireBytes(text: string): Uint8Array {
    const parts: Buffer[] = [];
    for (const char of text) {
        const unit = char.charCodeAt(0);
        parts.push(char.length === 1 && unit >= 0xd800 && unit <= 0xdfff
            ? Buffer.from([0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)])
            : Buffer.from(char, 'utf8'));
    }
    return Buffer.concat(parts);
}

/** `base` as JSON text with `field` (dotted: in a nested object) holding the raw JSON `text`. */
function objectWith(base: Record<string, unknown>, field: string, text: string): string {
    const [key, ...nested] = field.split('.');
    const value = nested.length === 0 ? text : objectWith(base[key] as Record<string, unknown>, nested.join('.'), text);
    const rest = JSON.stringify(Object.fromEntries(Object.entries(base).filter(([other]) => other !== key)));
    return `${rest.slice(0, -1)}${rest === '{}' ? '' : ','}${JSON.stringify(key)}:${value}}`;
}

interface World { lease: FakeLedger; emission: FakeLedger }

async function must(result: Promise<TxResult>): Promise<void> {
    const done = await result;
    assert.equal(done.ok, true, done.error);
}

/**
 * Roles, project project-0, draft lease LS1 (lessee L1 under the pseudonym REF1, its private part
 * in collection leaseTerms), factor GD-SZ 2025 and submitted report rep1 for lessee L1.
 */
async function newWorld(): Promise<World> {
    const world = { lease: new FakeLedger(), emission: new FakeLedger() };
    world.lease.collections.set(TERMS_COLLECTION, ['LessorMSP', 'RegulatorMSP']);
    world.lease.register('emission', emission, LESSOR, world.emission);
    for (const [ledger, contract] of [[world.lease, lease], [world.emission, emission]] as [FakeLedger, Contract][]) {
        await must(ledger.invoke(contract, 'SetRoles', [JSON.stringify(ROLES)], admin('LessorMSP'), T));
    }
    await must(world.lease.invoke(lease, 'RegisterProject', [JSON.stringify(PROJECT)], LESSOR, T));
    await must(world.lease.invoke(lease, 'CreateLease', [JSON.stringify(LEASE)], LESSOR, T,
        { lease_private: JSON.stringify(LEASE_PRIVATE) }));
    await must(world.emission.invoke(emission, 'PublishFactor', [JSON.stringify(FACTOR)], REGULATOR, T));
    await must(world.emission.invoke(emission, 'SubmitReport', [JSON.stringify(REPORT)], LESSOR, T));
    return world;
}

/** How each target of the table is called: its ledger, caller, arguments and transient data around the case. */
type Call = (world: World, testCase: Case, target: Target) => Promise<TxResult>;

const jsonField = (chaincode: 'lease' | 'emission', fcn: string, caller: Caller, base: Record<string, unknown>,
    before: string[] = []): Call => (world, testCase, target) =>
    world[chaincode].invoke(chaincode === 'lease' ? lease : emission, fcn,
        [...before, objectWith(base, target.field!, jsonText(testCase))], caller, T);

const NEW_LEASE = { ...LEASE, lease_id: 'LS2', lessee_ref: 'REF2' };

const caseValue = (testCase: Case): unknown => JSON.parse(jsonText(testCase));

const textArgument = (chaincode: 'lease' | 'emission', fcn: string, caller: Caller, args: (text: Uint8Array) => Uint8Array[]): Call =>
    (world, testCase) => world[chaincode].invoke(chaincode === 'lease' ? lease : emission, fcn,
        args(wireBytes(caseValue(testCase) as string)), caller, T);

const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

const CALLS: Record<string, Call> = {
    RegisterProject: jsonField('lease', 'RegisterProject', LESSOR, { ...PROJECT, project_id: 'project-1' }),
    ExpressInterest: jsonField('lease', 'ExpressInterest', HK, { amount_fen: 500, note: '' }, ['project-0']),
    SubmitReport: jsonField('emission', 'SubmitReport', LESSOR,
        { ...REPORT, report_id: 'rep2', period_start: '1900-01-01', period_end: '2100-01-01' }),
    PublishFactor: jsonField('emission', 'PublishFactor', REGULATOR, { ...FACTOR, supersede_reason: 'revised' }),
    SetRoles: (world, testCase) => world.lease.invoke(lease, 'SetRoles',
        [objectWith(ROLES, 'partner', `[${jsonText(testCase)}]`)], admin('LessorMSP'), T),
    RejectReport: textArgument('emission', 'RejectReport', REGULATOR, (reason) => [bytes('rep1'), reason]),
    // The case goes in the public argument or in the private part (transient), the other one is valid.
    CreateLease: (world, testCase, target) => {
        const text = jsonText(testCase);
        const [argument, secret] = target.transient === undefined
            ? [objectWith(NEW_LEASE, target.field!, text), JSON.stringify(LEASE_PRIVATE)]
            : [JSON.stringify(NEW_LEASE), objectWith(LEASE_PRIVATE, target.field!, text)];
        return world.lease.invoke(lease, 'CreateLease', [argument], LESSOR, T, { lease_private: secret });
    },
    TerminateLease: (world, testCase, target) => world.lease.invoke(lease, 'TerminateLease', [bytes('LS1')], LESSOR, T,
        { [target.transient!]: objectWith({}, target.field!, jsonText(testCase)) }),
    GetVerifiedReportForPeriod: textArgument('emission', 'GetVerifiedReportForPeriod', LESSOR,
        (start) => [bytes('L1'), start, bytes('2100-01-01')]),
};

/** Test names with invisible characters spelled out (JSON.stringify leaves C1 and U+FEFF raw). */
function label(testCase: Case): string {
    const text = (testCase.repeat !== undefined ? `${JSON.stringify(testCase.repeat)} x ${testCase.times}` : jsonText(testCase))
        .replace(/[\p{Cc}\p{Cf}]/gu, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return `${text.length > 40 ? `${text.slice(0, 40)}...` : text}${testCase.valid ? ' is valid' : ' is refused'}`;
}

for (const rule of TABLE.rules) {
    describe(`golden/validation.json: ${rule.rule}`, () => {
        for (const target of rule.chaincode) {
            const name = target.field ?? target.argument!;
            const call = CALLS[target.transaction];
            // Positional arguments carry text only: cases that are not strings apply to JSON fields.
            const cases = rule.cases.filter((testCase) => target.argument === undefined || typeof caseValue(testCase) === 'string');
            const where = target.transient === undefined ? '' : `transient ${target.transient}.`;
            for (const testCase of cases) {
                it(`${target.transaction} ${where}${name}: ${label(testCase)}`, async () => {
                    const result = await call(await newWorld(), testCase, target);
                    if (testCase.valid) {
                        assert.equal(result.ok, true, result.error);
                        return;
                    }
                    assert.equal(codeOf(result), 'INVALID_ARGUMENT', result.error);
                    assert.deepEqual(result.writes, []);
                    const field = `${target.transient === undefined ? '' : `${target.transient}.`}${name.replace(/\[\d+\]$/, '')}`;
                    assert.ok(result.error.includes(field) || /argument \d+: is not valid UTF-8/.test(result.error), result.error);
                });
            }
        }
    });
}

describe('golden/validation.json: JSON documents (parseJsonArg)', () => {
    for (const document of TABLE.documents) {
        it(`${JSON.stringify(document.json)} ${document.valid ? 'parses' : 'is refused'}${document.why ? ` (${document.why})` : ''}`, () => {
            if (document.valid) {
                parseJsonArg(document.json, 'arg');
            } else {
                assert.throws(() => parseJsonArg(document.json, 'arg'), (error: Error) => error.message.startsWith('INVALID_ARGUMENT: arg'));
            }
        });
    }
});
