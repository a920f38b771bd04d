import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { canonicalJson } from '@carbonlease/common';
import { admin, at, Caller, client, codeOf, FakeLedger, peer, TxResult } from '@carbonlease/common/dist/test/harness';
import { EmissionContract } from '@carbonlease/emission';
import { LeaseContract } from '../src';
import { TERMS_COLLECTION } from '../src/keys';
import { adjustmentFromPeriod } from '../src/schedule';
import { FLOATING_TERMS } from './fixtures';

const lease = new LeaseContract();
const emission = new EmissionContract();
const ROLES = { lessor: ['LessorMSP'], grid: ['GridMSP'], regulator: ['RegulatorMSP'], partner: ['HKPartnerMSP', 'MacaoPartnerMSP'] };
const LESSOR = client('LessorMSP');
const HK = client('HKPartnerMSP');
const REGULATOR = client('RegulatorMSP');
const GRID = client('GridMSP');
const PROJECT = { project_id: 'P1', name: 'Shenzhen rooftop PV', category: 'clean_energy', expected_annual_reduction_kg: 120000, location: 'Shenzhen' };
const SALT = 'a1'.repeat(32);
/** The terms as stored: ratchet tiers in descending min_performance_bps. */
const STORED_TERMS = { ...FLOATING_TERMS, ratchet: [...FLOATING_TERMS.ratchet].sort((a, b) => b.min_performance_bps - a.min_performance_bps) };
/** A lease as the REST gateway receives it; `call` splits it into the public argument and transient data. */
const LEASE = { lease_id: 'LS1', lessee_ref: 'REF1', lessee_id: 'L1', lessee_name: 'Lessee One Ltd', project_id: 'P1', terms: FLOATING_TERMS };
const T0 = at('2024-12-20');

let ledger: FakeLedger;
let emissionLedger: FakeLedger;

/**
 * The private part of a write goes into transient data, as the gateway sends it: CreateLease
 * [lease] -> [{lease_id, project_id, lessee_ref}] + lease_private; RecordPayment [id, period,
 * amount, paid_on] -> [id, period] + payment; TerminateLease [id, reason] -> [id] + termination.
 */
function split(fcn: string, args: unknown[]): [unknown[], Record<string, string>] {
    const [first] = args;
    if (fcn === 'CreateLease' && typeof first === 'object' && first !== null && 'terms' in first) {
        const { lease_id, project_id, lessee_ref, lessee_id, lessee_name, terms, ...rest } = first as Record<string, unknown>;
        return [[{ lease_id, project_id, lessee_ref, ...rest }],
            { lease_private: JSON.stringify({ lessee_id, lessee_name, terms, salt: SALT }) }];
    }
    if (fcn === 'RecordPayment' && args.length === 4) {
        return [args.slice(0, 2), { payment: JSON.stringify({ amount_fen: Number(args[2]), paid_on: args[3] }) }];
    }
    if (fcn === 'TerminateLease' && args.length === 2) {
        return [args.slice(0, 1), { termination: JSON.stringify({ reason: args[1] }) }];
    }
    return [args, {}];
}
const call = (fcn: string, args: unknown[], caller: Caller = LESSOR, time: Date = T0): Promise<TxResult> => {
    const [publicArgs, transient] = split(fcn, args);
    return ledger.invoke(lease, fcn, publicArgs.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))), caller, time,
        transient);
};
async function ok(fcn: string, args: unknown[], caller: Caller = LESSOR, time: Date = T0): Promise<Record<string, unknown>> {
    const result = await call(fcn, args, caller, time);
    assert.equal(result.ok, true, `${fcn}: ${result.error}`);
    return JSON.parse(result.payload);
}
async function fails(code: string, fcn: string, args: unknown[], caller: Caller = LESSOR, time: Date = T0): Promise<void> {
    const result = await call(fcn, args, caller, time);
    assert.equal(codeOf(result), code, `${fcn} ${JSON.stringify(args)}: ${result.error}`);
    assert.match(result.error, /^[A-Z_]+: \S/);
    assert.deepEqual(result.writes, [], `${fcn} must not write on failure`);
}
async function emissionOk(fcn: string, arg: unknown, caller: Caller): Promise<void> {
    const result = await emissionLedger.invoke(emission, fcn, [typeof arg === 'string' ? arg : JSON.stringify(arg)], caller, T0);
    assert.equal(result.ok, true, `${fcn}: ${result.error}`);
}
/** A verified report of `kg` (all scope 1) for the lessee's pseudonym REF1 and [start, end). */
async function verifiedReport(id: string, start: string, end: string, kg: number): Promise<void> {
    await emissionOk('SubmitReport', { report_id: id, lessee_id: 'REF1', period_start: start, period_end: end, scope1_kg: kg,
        meter_reading_ids: [], evidence_sha256: 'b'.repeat(64) }, LESSOR);
    await emissionOk('VerifyReport', id, REGULATOR);
}

async function setUp(): Promise<void> {
    ledger = new FakeLedger();
    ledger.collections.set(TERMS_COLLECTION, ['LessorMSP', 'RegulatorMSP']);
    emissionLedger = new FakeLedger();
    ledger.register('emission', emission, LESSOR, emissionLedger);
    await ok('SetRoles', [ROLES], admin('LessorMSP'));
    await emissionOk('SetRoles', ROLES, admin('LessorMSP'));
    await ok('RegisterProject', [PROJECT]);
}

describe('lease: projects and co-financing interest', () => {
    beforeEach(setUp);

    it('records the caller MSP as owner, refuses a taken id', async () => {
        const project = await ok('RegisterProject', [{ ...PROJECT, project_id: 'P2' }], HK);
        assert.equal(project.owner_msp, 'HKPartnerMSP');
        assert.deepEqual(await ok('GetProject', ['P2'], GRID), project);
        await fails('ALREADY_EXISTS', 'RegisterProject', [PROJECT], HK);
    });

    it('lists projects in pages for every org', async () => {
        await ok('RegisterProject', [{ ...PROJECT, project_id: 'P2' }], HK);
        const page = await ok('ListProjects', ['1', ''], GRID);
        assert.deepEqual((page.records as { project_id: string }[]).map((p) => p.project_id), ['P1']);
        const next = await ok('ListProjects', ['1', page.bookmark], client('OtherMSP'));
        assert.deepEqual((next.records as { project_id: string }[]).map((p) => p.project_id), ['P2']);
    });

    it('answers an empty page past the end', async () => {
        const past = await ok('ListProjects', ['10', '\u0000project\u0000zzz\u0000'], GRID);
        assert.deepEqual(past, { records: [], fetched_count: 0, bookmark: '' });
    });

    it('refuses a bookmark outside the project list', async () => {
        await ok('CreateLease', [LEASE]);
        await ok('ExpressInterest', ['P1', { amount_fen: 500, note: '' }], HK);
        // The peer scans from the bookmark to the end of the project range: from `\u0000lease\u0000`
        // that walks through every interest and lease record before the first project.
        const foreign = ['\u0000lease\u0000', '\u0000interest\u0000', '\u0000', '\u0000projects\u0000', 'roles', 'zzz'];
        for (const bookmark of foreign) {
            const result = await call('ListProjects', ['10', bookmark], GRID);
            assert.equal(result.error, 'INVALID_ARGUMENT: bookmark: does not belong to this list', JSON.stringify(bookmark));
            assert.deepEqual(result.writes, []);
        }
    });

    it('partners express interest; a repeat replaces it', async () => {
        await ok('ExpressInterest', ['P1', { amount_fen: 500, note: '' }], HK);
        await ok('ExpressInterest', ['P1', { amount_fen: 700, note: 'revised' }], HK);
        await ok('ExpressInterest', ['P1', { amount_fen: 100, note: 'macao' }], client('MacaoPartnerMSP'));
        const interests = JSON.parse((await call('ListInterests', ['P1'])).payload);
        assert.deepEqual(interests.map((i: { partner_msp: string; amount_fen: number }) => [i.partner_msp, i.amount_fen]),
            [['HKPartnerMSP', 700], ['MacaoPartnerMSP', 100]]);
    });

    it('a partner that joins later is admitted by SetRoles alone', async () => {
        const shenzhen = client('ShenzhenPartnerMSP');
        await fails('FORBIDDEN', 'ExpressInterest', ['P1', { amount_fen: 1, note: '' }], shenzhen);
        await ok('SetRoles', [{ ...ROLES, partner: [...ROLES.partner, 'ShenzhenPartnerMSP'] }], admin('RegulatorMSP'));
        await ok('ExpressInterest', ['P1', { amount_fen: 1, note: '' }], shenzhen);
        await ok('RegisterProject', [{ ...PROJECT, project_id: 'SZ1' }], shenzhen);
    });

    const bad: [string, string, unknown[]][] = [
        ['INVALID_ARGUMENT', 'RegisterProject', [{ ...PROJECT, category: 'coal' }]],
        ['INVALID_ARGUMENT', 'RegisterProject', [{ ...PROJECT, expected_annual_reduction_kg: -5 }]],
        ['INVALID_ARGUMENT', 'RegisterProject', [{ ...PROJECT, name: '' }]],
        ['INVALID_ARGUMENT', 'RegisterProject', [{ ...PROJECT, owner_msp: 'HKPartnerMSP' }]],
        ['INVALID_ARGUMENT', 'RegisterProject', ['{"project_id":']],
        ['INVALID_ARGUMENT', 'RegisterProject', []],
        ['NOT_FOUND', 'GetProject', ['P9']],
        ['INVALID_ARGUMENT', 'ListProjects', ['abc', '']],
        ['NOT_FOUND', 'ListInterests', ['P9']],
    ];
    for (const [code, fcn, args] of bad) {
        it(`${fcn} ${JSON.stringify(args).slice(0, 60)} -> ${code}`, () => fails(code, fcn, args, HK));
    }
    const badInterest: [string, unknown[]][] = [
        ['NOT_FOUND', ['P9', { amount_fen: 1, note: '' }]],
        ['INVALID_ARGUMENT', ['P1', { amount_fen: 0, note: '' }]],
        ['INVALID_ARGUMENT', ['P1', { amount_fen: 1.5, note: '' }]],
        ['INVALID_ARGUMENT', ['P1', { amount_fen: 1 }]],
        ['INVALID_ARGUMENT', ['P1']],
    ];
    for (const [code, args] of badInterest) {
        it(`ExpressInterest ${JSON.stringify(args)} -> ${code}`, () => fails(code, 'ExpressInterest', args, HK));
    }
});

describe('lease: permissions', () => {
    beforeEach(setUp);
    const writes: { fcn: string; args: unknown[]; allowed: string[]; prepare?: string }[] = [
        { fcn: 'RegisterProject', args: [{ ...PROJECT, project_id: 'P3' }], allowed: ['LessorMSP', 'HKPartnerMSP', 'MacaoPartnerMSP'] },
        { fcn: 'ExpressInterest', args: ['P1', { amount_fen: 1, note: '' }], allowed: ['HKPartnerMSP', 'MacaoPartnerMSP'] },
        { fcn: 'CreateLease', args: [LEASE], allowed: ['LessorMSP'] },
        { fcn: 'ActivateLease', args: ['LS1'], allowed: ['LessorMSP'], prepare: 'create' },
        { fcn: 'TerminateLease', args: ['LS1', 'cancelled'], allowed: ['LessorMSP'], prepare: 'create' },
        { fcn: 'FixNextRate', args: ['LS1'], allowed: ['LessorMSP'], prepare: 'activate' },
        { fcn: 'RecordPayment', args: ['LS1', '1', '262500', '2025-01-05'], allowed: ['LessorMSP'], prepare: 'activate' },
    ];
    const everyone = ['LessorMSP', 'GridMSP', 'RegulatorMSP', 'HKPartnerMSP', 'MacaoPartnerMSP', 'StrangerMSP'];
    const when = at('2025-04-02');
    async function prepare(step?: string): Promise<void> {
        if (step) await ok('CreateLease', [LEASE]);
        if (step === 'activate') await ok('ActivateLease', ['LS1']);
    }
    for (const w of writes) {
        for (const msp of everyone) {
            const allowed = w.allowed.includes(msp);
            it(`${w.fcn} by ${msp} -> ${allowed ? 'OK' : 'FORBIDDEN'}`, async () => {
                await prepare(w.prepare);
                if (allowed) await ok(w.fcn, w.args, client(msp), when);
                else await fails('FORBIDDEN', w.fcn, w.args, client(msp), when);
            });
        }
        it(`${w.fcn} by a peer identity -> FORBIDDEN`, async () => {
            await prepare(w.prepare);
            await fails('FORBIDDEN', w.fcn, w.args, peer(w.allowed[0]), when);
        });
        it(`${w.fcn} before SetRoles -> ROLES_NOT_SET`, async () => {
            ledger = new FakeLedger();
            ledger.collections.set(TERMS_COLLECTION, ['LessorMSP', 'RegulatorMSP']);
            await fails('ROLES_NOT_SET', w.fcn, w.args, client(w.allowed[0]), when);
        });
    }
});

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The latest private adjustment record of LS1, as the Lessor reads it. */
async function lastAdjustment(): Promise<Record<string, unknown>> {
    const view = (await ok('GetLease', ['LS1'])).private as { adjustments: Record<string, unknown>[] };
    return view.adjustments[view.adjustments.length - 1];
}

describe('lease: lifecycle, rate fixing and payments', () => {
    beforeEach(setUp);

    it('runs a lease from draft to matured with rates from verified emissions', async () => {
        const created = await ok('CreateLease', [LEASE]);
        assert.equal(created.status, 'draft');
        assert.equal(created.fixed_through_period, 1);
        await fails('INVALID_STATE', 'FixNextRate', ['LS1'], LESSOR, at('2025-04-02'));
        await fails('INVALID_STATE', 'RecordPayment', ['LS1', '1', '262500', '2025-01-05'], LESSOR, at('2025-01-06'));
        await ok('ActivateLease', ['LS1']);
        await fails('INVALID_STATE', 'ActivateLease', ['LS1']);

        // period 1 = [2025-01-01, 2025-04-01): verified 8500 kg vs target 10000 -> +1500 bps -> -50
        await verifiedReport('q1', '2025-01-01', '2025-04-01', 8500);
        await fails('INVALID_STATE', 'RecordPayment', ['LS1', '1', '262500', '2024-12-20'], LESSOR, at('2024-12-31'));
        await fails('INVALID_STATE', 'FixNextRate', ['LS1'], LESSOR, at('2025-03-31T23:59:59Z'));
        const fixed = await call('FixNextRate', ['LS1'], LESSOR, at('2025-04-01T00:00:00Z'));
        assert.equal(fixed.ok, true, fixed.error);
        assert.equal(fixed.event?.name, 'RateFixed');
        // The answer and the event carry the period and the record's hash; the record is private.
        const reference = JSON.parse(fixed.payload);
        assert.deepEqual(Object.keys(reference).sort(), ['fixed_at', 'lease_id', 'period', 'record_hash']);
        const adjustment = await lastAdjustment();
        assert.equal(reference.record_hash, sha256(canonicalJson(adjustment)));
        assert.deepEqual(
            [adjustment.period, adjustment.report_id, adjustment.verified_kg, adjustment.target_kg, adjustment.performance_bps,
                adjustment.tier_min_performance_bps, adjustment.basis, adjustment.adjustment_bps, adjustment.rate_bps],
            [2, 'q1', 8500, 10000, 1500, 1000, 'tier', -50, 450]);
        await fails('INVALID_STATE', 'FixNextRate', ['LS1'], LESSOR, at('2025-06-30'));

        // payments: in order, exact amount, paid_on within [period start, today]
        await fails('INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1', '262499', '2025-03-31'], LESSOR, at('2025-04-01'));
        await fails('INVALID_STATE', 'RecordPayment', ['LS1', '2', '258438', '2025-04-01'], LESSOR, at('2025-04-01'));
        await fails('INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1', '262500', '2025-04-02'], LESSOR, at('2025-04-01'));
        await fails('INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1', '262500', '2024-12-31'], LESSOR, at('2025-04-01'));
        await fails('INVALID_ARGUMENT', 'RecordPayment', ['LS1', '5', '1', '2025-04-01'], LESSOR, at('2025-04-01'));
        const payment = await ok('RecordPayment', ['LS1', '1', '262500', '2025-03-31'], LESSOR, at('2025-04-01'));
        assert.equal(payment.lease_status, 'active');
        const paid = ((await ok('GetLease', ['LS1'])).private as { payments: { due_date: string; amount_fen: number }[] }).payments;
        assert.deepEqual([paid[0].due_date, paid[0].amount_fen], ['2025-04-01', 262500]);

        // period 2: no verified report -> missing_report 200 clamped to cap 150
        await fails('INVALID_STATE', 'RecordPayment', ['LS1', '3', '258125', '2025-07-01'], LESSOR, at('2025-07-01'));
        await ok('FixNextRate', ['LS1'], LESSOR, at('2025-07-01'));
        const missing = await lastAdjustment();
        assert.deepEqual([missing.basis, missing.report_id, missing.adjustment_bps, missing.rate_bps], ['missing_report', null, 150, 650]);
        // period 3: target 9500, verified 9600 -> -105 bps -> tier -1000 -> +100
        await verifiedReport('q3', '2025-07-01', '2025-10-01', 9600);
        await ok('FixNextRate', ['LS1'], LESSOR, at('2025-10-01'));
        const third = await lastAdjustment();
        assert.deepEqual([third.target_kg, third.performance_bps, third.adjustment_bps, third.rate_bps], [9500, -105, 100, 600]);
        await fails('INVALID_STATE', 'FixNextRate', ['LS1'], LESSOR, at('2026-02-01'));

        const schedule = await ok('GetSchedule', ['LS1'], REGULATOR);
        assert.equal(schedule.fixed_through_period, 4);
        assert.deepEqual(await ok('GetSchedule', ['LS1'], GRID), { ...schedule, rows: null });
        assert.deepEqual((schedule.rows as { instalment_fen: number }[]).map((r) => r.instalment_fen), [262500, 258438, 258125, 253750]);
        // ...which is exactly what PreviewSchedule says for the same emissions
        const preview = JSON.parse((await call('PreviewSchedule', [FLOATING_TERMS, [8500, null, 9600, null]], GRID)).payload);
        assert.deepEqual(preview, schedule.rows);

        await ok('RecordPayment', ['LS1', '2', '258438', '2025-07-01'], LESSOR, at('2025-07-02'));
        await ok('RecordPayment', ['LS1', '3', '258125', '2025-10-01'], LESSOR, at('2025-10-02'));
        const last = await call('RecordPayment', ['LS1', '4', '253750', '2026-01-01'], LESSOR, at('2026-01-02'));
        assert.equal(last.event?.name, 'PaymentRecorded');
        assert.equal(JSON.parse(last.payload).lease_status, 'matured');
        const matured = await ok('GetLease', ['LS1']);
        assert.equal(matured.status, 'matured');
        assert.equal((matured.adjustments as unknown[]).length, 3);
        await fails('INVALID_STATE', 'RecordPayment', ['LS1', '4', '253750', '2026-01-01'], LESSOR, at('2026-01-02'));
        await fails('INVALID_STATE', 'TerminateLease', ['LS1', 'late'], LESSOR, at('2026-01-02'));
        const history = JSON.parse((await call('GetLeaseHistory', ['LS1'])).payload);
        assert.deepEqual(history.map((h: { value: { status: string } }) => h.value.status),
            ['draft', 'active', 'active', 'active', 'active', 'active', 'active', 'active', 'matured']);
    });

    it('a report for a different range does not count for the period', async () => {
        await ok('CreateLease', [LEASE]);
        await ok('ActivateLease', ['LS1']);
        await verifiedReport('m1', '2025-01-01', '2025-02-01', 100);
        await ok('FixNextRate', ['LS1'], LESSOR, at('2025-04-01'));
        assert.equal((await lastAdjustment()).basis, 'missing_report');
    });

    it('an emission chaincode failure is INVALID_STATE and writes nothing', async () => {
        await ok('CreateLease', [LEASE]);
        await ok('ActivateLease', ['LS1']);
        ledger.chaincodes.clear();
        await fails('INVALID_STATE', 'FixNextRate', ['LS1'], LESSOR, at('2025-04-01'));
    });

    it('terminates a draft or an active lease, then refuses writes', async () => {
        await ok('CreateLease', [LEASE]);
        await fails('INVALID_ARGUMENT', 'TerminateLease', ['LS1', ' ']);
        const terminated = await ok('TerminateLease', ['LS1', 'customer withdrew']);
        assert.equal(terminated.status, 'terminated');
        await fails('INVALID_STATE', 'ActivateLease', ['LS1']);
        await fails('INVALID_STATE', 'FixNextRate', ['LS1'], LESSOR, at('2025-04-01'));
    });

    it('refuses a taken lease id and an unknown project', async () => {
        await ok('CreateLease', [LEASE]);
        await fails('ALREADY_EXISTS', 'CreateLease', [LEASE]);
        await fails('NOT_FOUND', 'CreateLease', [{ ...LEASE, lease_id: 'LS2', project_id: 'P9' }]);
    });

    const badTerms: [string, Record<string, unknown>][] = [
        ['zero principal', { principal_fen: 0 }], ['principal above 10^15', { principal_fen: 1e15 + 1 }],
        ['float rate', { base_rate_bps: 5.5 }], ['negative rate', { base_rate_bps: -1 }],
        ['zero periods', { term_periods: 0 }], ['361 periods', { term_periods: 361 }],
        ['6-month periods', { period_months: 6 }], ['unknown amortization', { amortization: 'balloon' }],
        ['start on the 31st', { start_date: '2025-01-31' }], ['impossible start', { start_date: '2025-02-30' }],
        ['negative baseline', { baseline_kg: -1 }], ['reduction above 100%', { annual_reduction_bps: 10001 }],
        ['negative cap', { cap_bps: -1 }], ['positive floor', { floor_bps: 1 }],
        ['duplicate tiers', { ratchet: [{ min_performance_bps: 0, adjustment_bps: 0 }, { min_performance_bps: 0, adjustment_bps: 5 }] }],
        ['tier with extra field', { ratchet: [{ min_performance_bps: 0, adjustment_bps: 0, label: 'x' }] }],
        ['ratchet not a list', { ratchet: {} }], ['principal as string', { principal_fen: '1000000' }],
        ['missing field', { missing_report_bps: undefined }], ['unknown field', { grace_periods: 1 }],
    ];
    for (const [name, override] of badTerms) {
        it(`CreateLease and PreviewSchedule refuse terms with ${name}`, async () => {
            const terms = { ...FLOATING_TERMS, ...override };
            await fails('INVALID_ARGUMENT', 'CreateLease', [{ ...LEASE, terms }]);
            await fails('INVALID_ARGUMENT', 'PreviewSchedule', [terms, [null, null, null, null]], GRID);
        });
    }
    const badEmissions: [string, string][] = [
        ['too few entries', '[1,2,3]'], ['too many entries', '[1,2,3,4,5]'], ['a float', '[1,2.5,3,4]'],
        ['a negative', '[1,-2,3,4]'], ['a string', '[1,"2",3,4]'], ['not JSON', '[1,2'], ['an object', '{}'],
    ];
    for (const [name, emissions] of badEmissions) {
        it(`PreviewSchedule refuses emissions with ${name}`, () =>
            fails('INVALID_ARGUMENT', 'PreviewSchedule', [FLOATING_TERMS, emissions], GRID));
    }

    const badCalls: [string, string, string[]][] = [
        ['NOT_FOUND', 'GetLease', ['LS9']], ['INVALID_ARGUMENT', 'GetLease', ['']],
        ['NOT_FOUND', 'GetSchedule', ['LS9']], ['NOT_FOUND', 'GetLeaseHistory', ['LS9']],
        ['NOT_FOUND', 'ActivateLease', ['LS9']], ['NOT_FOUND', 'FixNextRate', ['LS9']],
        ['INVALID_ARGUMENT', 'RecordPayment', ['LS1', '0', '1', '2025-01-01']],
        ['INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1', '-1', '2025-01-01']],
        ['INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1', '1.5', '2025-01-01']],
        ['INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1', '1', '01/01/2025']],
        ['INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1', '1']],
        ['INVALID_ARGUMENT', 'CreateLease', ['[]']], ['INVALID_ARGUMENT', 'PreviewSchedule', ['{}']],
        ['INVALID_ARGUMENT', 'Nonexistent', []],
    ];
    for (const [code, fcn, args] of badCalls) {
        it(`${fcn}(${args.join(', ')}) -> ${code}`, () => fails(code, fcn, args));
    }
});

describe('lease: private terms', () => {
    beforeEach(setUp);
    const SECRETS = ['L1', 'Lessee One Ltd', String(FLOATING_TERMS.principal_fen)];
    const carriesNoSecret = (text: string, what: string): void => {
        for (const secret of SECRETS) assert.equal(text.includes(secret), false, `${what} carries ${secret}: ${text}`);
    };

    /** A lease run to maturity, every answer and event checked for private values on the way. */
    async function matured(): Promise<void> {
        const checked = async (fcn: string, args: unknown[], time: Date): Promise<void> => {
            const result = await call(fcn, args, LESSOR, time);
            assert.equal(result.ok, true, `${fcn}: ${result.error}`);
            carriesNoSecret(result.payload, `${fcn} answer`);
            carriesNoSecret(result.event?.payload ?? '', `${fcn} event`);
        };
        await verifiedReport('q1', '2025-01-01', '2025-04-01', 8500);
        await checked('CreateLease', [LEASE], T0);
        await checked('ActivateLease', ['LS1'], T0);
        const quarters = ['2025-01-01', '2025-04-01', '2025-07-01', '2025-10-01', '2026-01-01'];
        for (let period = 1; period <= 4; period++) {
            if (period > 1) await checked('FixNextRate', ['LS1'], at(quarters[period - 1]));
            const rows = (await ok('GetSchedule', ['LS1'])).rows as { instalment_fen: number }[];
            await checked('RecordPayment', ['LS1', String(period), String(rows[period - 1].instalment_fen), quarters[period - 1]],
                at(quarters[period - 1]));
        }
    }

    it('keeps lessee and terms in the collection; public state holds their salted hash', async () => {
        const created = await ok('CreateLease', [LEASE]);
        assert.deepEqual(Object.keys(created).sort(), ['activated_at', 'adjustments', 'created_at', 'fixed_through_period',
            'lease_id', 'lessee_ref', 'matured_at', 'paid_through_period', 'payments', 'private_data_purged_at', 'project_id',
            'status', 'terminated_at', 'termination_hash', 'terms_hash']);
        carriesNoSecret(JSON.stringify([...ledger.state.values()].map((v) => Buffer.from(v).toString())), 'public state');
        const record = ledger.getPrivate(TERMS_COLLECTION, '\u0000terms\u0000LS1\u0000');
        assert.deepEqual(record, { lease_id: 'LS1', lessee_id: 'L1', lessee_name: 'Lessee One Ltd', terms: STORED_TERMS, salt: SALT });
        // What a member recomputes: SHA-256 of the record's canonical JSON (keys sorted, no spaces).
        assert.equal(created.terms_hash, sha256(canonicalJson(record)));
    });

    it('shows the terms to member orgs only; others get the public view', async () => {
        const created = await ok('CreateLease', [LEASE]);
        for (const member of [LESSOR, REGULATOR]) {
            const view = await ok('GetLease', ['LS1'], member);
            assert.deepEqual((view.private as { terms: unknown }).terms, JSON.parse(JSON.stringify(
                { lease_id: 'LS1', lessee_id: 'L1', lessee_name: 'Lessee One Ltd', terms: STORED_TERMS, salt: SALT })));
        }
        for (const outsider of [GRID, HK, client('MacaoPartnerMSP')]) {
            assert.deepEqual(await ok('GetLease', ['LS1'], outsider), { ...created, private: null });
            assert.equal((await ok('GetSchedule', ['LS1'], outsider)).rows, null);
        }
    });

    it('a direct read of the collection by a non-member is refused by the peer', async () => {
        await ok('CreateLease', [LEASE]);
        const refused = await call('GetPrivateTerms', ['LS1'], HK);
        assert.equal(codeOf(refused), 'FORBIDDEN');
        assert.match(refused.error, /tx creator does not have read access permission .* collectionName: leaseTerms/);
        assert.equal((await ok('GetPrivateTerms', ['LS1'], REGULATOR)).lessee_name, 'Lessee One Ltd');
        await fails('NOT_FOUND', 'GetPrivateTerms', ['LS9'], REGULATOR);
    });

    it('a peer outside the collection holds no terms, so it cannot endorse rate fixes', async () => {
        await ok('CreateLease', [LEASE]);
        await ok('ActivateLease', ['LS1']);
        ledger.peerMsp = 'GridMSP';
        assert.equal((await ok('GetLease', ['LS1'])).private, null);
        await fails('INVALID_STATE', 'FixNextRate', ['LS1'], LESSOR, at('2025-04-01'));
    });

    it('refuses terms as an argument, a missing transient and a pseudonym equal to the lessee id', async () => {
        await fails('INVALID_ARGUMENT', 'CreateLease', [{ lease_id: 'LS1', project_id: 'P1', lessee_ref: 'REF1', terms: FLOATING_TERMS }]);
        await fails('INVALID_ARGUMENT', 'CreateLease', [{ lease_id: 'LS1', project_id: 'P1', lessee_ref: 'REF1' }]);
        await fails('INVALID_ARGUMENT', 'CreateLease', [{ ...LEASE, lessee_ref: 'L1' }]);
        await fails('INVALID_ARGUMENT', 'RecordPayment', ['LS1', '1']);
        await fails('INVALID_ARGUMENT', 'TerminateLease', ['LS1']);
    });

    it('answers and events carry no private value; the Regulator recomputes every adjustment', async () => {
        await matured();
        const view = await ok('GetLease', ['LS1'], REGULATOR);
        const { terms, adjustments, payments } = view.private as {
            terms: { terms: typeof FLOATING_TERMS }; adjustments: Record<string, unknown>[]; payments: Record<string, unknown>[];
        };
        assert.equal(view.status, 'matured');
        for (const adjustment of adjustments) {
            const recomputed = adjustmentFromPeriod(terms.terms as never, adjustment.based_on_period as number,
                adjustment.verified_kg as number | null);
            assert.deepEqual({ ...recomputed }, Object.fromEntries(Object.keys(recomputed).map((k) => [k, adjustment[k]])));
        }
        const refs = [...view.adjustments as { record_hash: string }[], ...view.payments as { record_hash: string }[]];
        assert.deepEqual(refs.map((r) => r.record_hash), [...adjustments, ...payments].map((r) => sha256(canonicalJson(r))));
    });

    it('purges private data of a matured lease after its retention; public hashes stay', async () => {
        await matured();
        // 4 quarters from 2025-01-01 end 2026-01-01; retained 60 months: until 2031-01-01.
        await fails('INVALID_STATE', 'PurgeLeasePrivateData', ['LS1'], LESSOR, at('2030-12-31'));
        await fails('FORBIDDEN', 'PurgeLeasePrivateData', ['LS1'], REGULATOR, at('2031-01-01'));
        const { private: hidden, ...before } = await ok('GetLease', ['LS1'], HK);
        assert.equal(hidden, null);
        const purged = await ok('PurgeLeasePrivateData', ['LS1'], LESSOR, at('2031-01-01'));
        assert.equal(ledger.privateState.get(TERMS_COLLECTION)?.size, 0);
        assert.deepEqual({ ...purged, private_data_purged_at: null }, { ...before, private_data_purged_at: null });
        assert.equal((await ok('GetLease', ['LS1'], REGULATOR)).private, null);
        await fails('INVALID_STATE', 'PurgeLeasePrivateData', ['LS1'], LESSOR, at('2031-01-02'));
    });

    it('refuses to purge an active lease', async () => {
        await ok('CreateLease', [LEASE]);
        await ok('ActivateLease', ['LS1']);
        await fails('INVALID_STATE', 'PurgeLeasePrivateData', ['LS1'], LESSOR, at('2040-01-01'));
    });
});
