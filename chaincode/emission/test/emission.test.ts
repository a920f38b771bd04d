import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { admin, at, Caller, client, codeOf, FakeLedger, peer, TxResult } from '@carbonlease/common/dist/test/harness';
import { EmissionContract } from '../src';

const contract = new EmissionContract();
const ROLES = { lessor: ['LessorMSP'], grid: ['GridMSP'], regulator: ['RegulatorMSP'], partner: ['HKPartnerMSP'] };
const REGULATOR = client('RegulatorMSP');
const GRID = client('GridMSP');
const LESSOR = client('LessorMSP');
const PARTNER = client('HKPartnerMSP');
const T = at('2025-04-10');
const SHA = 'a'.repeat(64);

const FACTOR = { region: 'GD-SZ', year: 2025, factor_g_per_kwh: 581 };
const READING_1 = { reading_id: 'r1', lessee_id: 'L1', facility_id: 'F1', region: 'GD-SZ', period_start: '2025-01-01', period_end: '2025-02-01', kwh: 1234 };
const READING_2 = { ...READING_1, reading_id: 'r2', period_start: '2025-02-01', period_end: '2025-04-01', kwh: 500 };
const REPORT = { report_id: 'rep1', lessee_id: 'L1', period_start: '2025-01-01', period_end: '2025-04-01', scope1_kg: 100, meter_reading_ids: ['r2', 'r1'], evidence_sha256: SHA };

let ledger: FakeLedger;
const call = (fcn: string, args: unknown[], caller: Caller = LESSOR): Promise<TxResult> =>
    ledger.invoke(contract, fcn, args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))), caller, T);
async function ok(fcn: string, args: unknown[], caller: Caller = LESSOR): Promise<Record<string, unknown>> {
    const result = await call(fcn, args, caller);
    assert.equal(result.ok, true, `${fcn}: ${result.error}`);
    return JSON.parse(result.payload);
}
async function fails(code: string, fcn: string, args: unknown[], caller: Caller = LESSOR): Promise<void> {
    const result = await call(fcn, args, caller);
    assert.equal(codeOf(result), code, `${fcn} ${JSON.stringify(args)}: ${result.error}`);
    assert.match(result.error, /^[A-Z_]+: \S/);
    assert.deepEqual(result.writes, [], `${fcn} must not write on failure`);
}
async function setUp(): Promise<void> {
    ledger = new FakeLedger();
    await ok('SetRoles', [ROLES], admin('LessorMSP'));
    await ok('PublishFactor', [FACTOR], REGULATOR);
    await ok('SubmitMeterReading', [READING_1], GRID);
    await ok('SubmitMeterReading', [READING_2], GRID);
}

describe('emission: factors', () => {
    beforeEach(setUp);

    it('publishes, then supersedes only with a reason, keeping history', async () => {
        await fails('ALREADY_EXISTS', 'PublishFactor', [{ ...FACTOR, factor_g_per_kwh: 600 }], REGULATOR);
        const factor = await ok('PublishFactor', [{ ...FACTOR, factor_g_per_kwh: 600, supersede_reason: 'recalculated grid mix' }], REGULATOR);
        assert.equal(factor.version, 2);
        assert.equal(factor.factor_g_per_kwh, 600);
        assert.deepEqual((factor.history as { factor_g_per_kwh: number }[]).map((v) => v.factor_g_per_kwh), [581]);
        assert.deepEqual(await ok('GetFactor', ['GD-SZ', '2025']), factor);
        const history = JSON.parse((await call('GetHistory', ['factor:GD-SZ:2025'])).payload);
        assert.deepEqual(history.map((h: { value: { version: number } }) => h.value.version), [1, 2]);
    });

    it('refuses a supersede reason when nothing is published', () =>
        fails('INVALID_ARGUMENT', 'PublishFactor', [{ ...FACTOR, year: 2026, supersede_reason: 'x' }], REGULATOR));
    it('GetFactor of an unpublished year is NOT_FOUND', () => fails('NOT_FOUND', 'GetFactor', ['GD-SZ', '2024']));

    const badFactors: [string, unknown][] = [
        ['not JSON', 'nope'], ['a list', [FACTOR]], ['missing factor', { region: 'X', year: 2025 }],
        ['float factor', { ...FACTOR, factor_g_per_kwh: 581.5 }], ['negative factor', { ...FACTOR, factor_g_per_kwh: -1 }],
        ['string year', { ...FACTOR, year: '2025' }], ['year 1800', { ...FACTOR, year: 1800 }],
        ['bad region', { ...FACTOR, region: 'GD SZ' }], ['unknown field', { ...FACTOR, unit: 'g' }],
        ['blank reason', { ...FACTOR, supersede_reason: '  ' }],
    ];
    for (const [name, factor] of badFactors) {
        it(`PublishFactor refuses ${name}`, () => fails('INVALID_ARGUMENT', 'PublishFactor', [factor], REGULATOR));
    }
    for (const [name, args] of [['year not a number', ['GD-SZ', 'x']], ['bad region', ['', '2025']], ['too few args', ['GD-SZ']]] as [string, string[]][]) {
        it(`GetFactor refuses ${name}`, () => fails('INVALID_ARGUMENT', 'GetFactor', args));
    }
});

describe('emission: permissions', () => {
    beforeEach(setUp);
    const writes: { fcn: string; args: unknown[]; allowed: Caller }[] = [
        { fcn: 'PublishFactor', args: [{ ...FACTOR, year: 2026 }], allowed: REGULATOR },
        { fcn: 'SubmitMeterReading', args: [{ ...READING_1, reading_id: 'r9' }], allowed: GRID },
        { fcn: 'SubmitReport', args: [REPORT], allowed: LESSOR },
    ];
    const others = [REGULATOR, GRID, LESSOR, PARTNER, client('UnknownMSP')];
    for (const w of writes) {
        for (const caller of others.filter((c) => c.msp !== w.allowed.msp)) {
            it(`${w.fcn} refuses ${caller.msp}`, () => fails('FORBIDDEN', w.fcn, w.args, caller));
        }
        it(`${w.fcn} refuses a peer identity of the right org`, () => fails('FORBIDDEN', w.fcn, w.args, peer(w.allowed.msp)));
        it(`${w.fcn} accepts an admin identity of the right org`, async () => { await ok(w.fcn, w.args, admin(w.allowed.msp)); });
        it(`${w.fcn} before SetRoles is ROLES_NOT_SET`, async () => {
            ledger = new FakeLedger();
            await fails('ROLES_NOT_SET', w.fcn, w.args, w.allowed);
        });
    }
    for (const fcn of ['VerifyReport', 'RejectReport']) {
        for (const caller of [LESSOR, GRID, PARTNER]) {
            it(`${fcn} refuses ${caller.msp}`, async () => {
                await ok('SubmitReport', [REPORT]);
                await fails('FORBIDDEN', fcn, fcn === 'VerifyReport' ? ['rep1'] : ['rep1', 'no'], caller);
            });
        }
    }
    it('a partner added by SetRoles to grid can submit readings without a code change', async () => {
        await fails('FORBIDDEN', 'SubmitMeterReading', [{ ...READING_1, reading_id: 'r9' }], client('ShenzhenGridMSP'));
        await ok('SetRoles', [{ ...ROLES, grid: ['GridMSP', 'ShenzhenGridMSP'] }], admin('RegulatorMSP'));
        await ok('SubmitMeterReading', [{ ...READING_1, reading_id: 'r9' }], client('ShenzhenGridMSP'));
    });
});

describe('emission: meter readings', () => {
    beforeEach(setUp);
    it('stores the reading with submitter and tx time', async () => {
        const reading = await ok('GetMeterReading', ['r1']);
        assert.equal(reading.submitted_by_msp, 'GridMSP');
        assert.equal(reading.submitted_at, '2025-04-10T12:00:00.000Z');
    });
    it('refuses a duplicate reading id', () => fails('ALREADY_EXISTS', 'SubmitMeterReading', [READING_1], GRID));
    const bad: [string, unknown][] = [
        ['float kWh', { ...READING_1, reading_id: 'x', kwh: 1.5 }], ['negative kWh', { ...READING_1, reading_id: 'x', kwh: -1 }],
        ['empty range', { ...READING_1, reading_id: 'x', period_end: '2025-01-01' }],
        ['reversed range', { ...READING_1, reading_id: 'x', period_end: '2024-12-01' }],
        ['range across a year', { ...READING_1, reading_id: 'x', period_start: '2024-12-15', period_end: '2025-01-15' }],
        ['bad date', { ...READING_1, reading_id: 'x', period_start: '2025-13-01' }],
        ['missing facility', { ...READING_1, reading_id: 'x', facility_id: undefined }],
        ['bad lessee id', { ...READING_1, reading_id: 'x', lessee_id: 'a:b' }],
    ];
    for (const [name, reading] of bad) {
        it(`refuses ${name}`, () => fails('INVALID_ARGUMENT', 'SubmitMeterReading', [reading], GRID));
    }
    it('a reading ending on 1 January stays in its year', async () => {
        await ok('SubmitMeterReading', [{ ...READING_1, reading_id: 'dec', period_start: '2024-12-01', period_end: '2025-01-01' }], GRID);
    });
    it('GetMeterReading of an unknown id is NOT_FOUND', () => fails('NOT_FOUND', 'GetMeterReading', ['nope']));
});

describe('emission: reports', () => {
    beforeEach(setUp);

    it('computes scope 2 on chain: (1234 + 500) kWh x 581 g = 1,007,454 g -> 1007 kg', async () => {
        const report = await ok('SubmitReport', [REPORT]);
        assert.equal(report.scope2_kg, 1007);
        assert.equal(report.total_kg, 1107);
        assert.deepEqual(report.meter_reading_ids, ['r1', 'r2']);
        assert.equal(report.status, 'submitted');
        assert.equal(report.version, 1);
        assert.equal((await call('SubmitReport', [{ ...REPORT, report_id: 'x2' }])).ok, false);
    });

    it('rounds g -> kg half away from zero: 1 kWh x 500 g = 0.5 kg -> 1 kg', async () => {
        await ok('PublishFactor', [{ region: 'HALF', year: 2025, factor_g_per_kwh: 500 }], REGULATOR);
        await ok('SubmitMeterReading', [{ ...READING_1, reading_id: 'h1', region: 'HALF', kwh: 1 }], GRID);
        const report = await ok('SubmitReport', [{ ...REPORT, report_id: 'h', meter_reading_ids: ['h1'], scope1_kg: 0 }]);
        assert.equal(report.scope2_kg, 1);
    });

    it('verify: immutable afterwards, visible to GetVerifiedReportForPeriod', async () => {
        assert.equal((await call('GetVerifiedReportForPeriod', ['L1', '2025-01-01', '2025-04-01'])).payload, 'null');
        await ok('SubmitReport', [REPORT]);
        const verified = await ok('VerifyReport', ['rep1'], REGULATOR);
        assert.equal(verified.status, 'verified');
        assert.equal(verified.verified_by_msp, 'RegulatorMSP');
        assert.deepEqual(await ok('GetVerifiedReportForPeriod', ['L1', '2025-01-01', '2025-04-01']), verified);
        assert.equal((await call('GetVerifiedReportForPeriod', ['L1', '2025-01-01', '2025-03-01'])).payload, 'null');
        assert.equal((await call('GetVerifiedReportForPeriod', ['L2', '2025-01-01', '2025-04-01'])).payload, 'null');
        await fails('INVALID_STATE', 'VerifyReport', ['rep1'], REGULATOR);
        await fails('INVALID_STATE', 'RejectReport', ['rep1', 'late'], REGULATOR);
        await fails('INVALID_STATE', 'SubmitReport', [{ ...REPORT, report_id: 'rep2', supersedes: 'rep1' }]);
    });

    it('reject, then correct with a new version that references the old one', async () => {
        await ok('SubmitReport', [REPORT]);
        const rejected = await ok('RejectReport', ['rep1', 'evidence unreadable'], REGULATOR);
        assert.equal(rejected.rejection_reason, 'evidence unreadable');
        const corrected = await ok('SubmitReport', [{ ...REPORT, report_id: 'rep1b', supersedes: 'rep1', scope1_kg: 90 }]);
        assert.equal(corrected.version, 2);
        assert.equal(corrected.supersedes, 'rep1');
        const old = await ok('GetReport', ['rep1']);
        assert.equal(old.status, 'superseded');
        assert.equal(old.superseded_by, 'rep1b');
        await fails('INVALID_STATE', 'SubmitReport', [{ ...REPORT, report_id: 'rep1c', supersedes: 'rep1' }]);
        await fails('INVALID_STATE', 'VerifyReport', ['rep1'], REGULATOR);
        await ok('VerifyReport', ['rep1b'], REGULATOR);
        const history = JSON.parse((await call('GetHistory', ['report:rep1'])).payload);
        assert.deepEqual(history.map((h: { value: { status: string } }) => h.value.status), ['submitted', 'rejected', 'superseded']);
    });

    it('an unverified report can be corrected directly', async () => {
        await ok('SubmitReport', [REPORT]);
        await ok('SubmitReport', [{ ...REPORT, report_id: 'rep1b', supersedes: 'rep1' }]);
    });

    it('a correction must keep lessee and period', async () => {
        await ok('SubmitReport', [REPORT]);
        await fails('INVALID_ARGUMENT', 'SubmitReport', [{ ...REPORT, report_id: 'x', supersedes: 'rep1', period_end: '2025-03-01', meter_reading_ids: ['r1'] }]);
    });

    it('lists reports by lessee in pages', async () => {
        await ok('SubmitReport', [REPORT]);
        await ok('SubmitReport', [{ ...REPORT, report_id: 'rep0', period_end: '2025-02-01', meter_reading_ids: ['r1'] }]);
        const first = await ok('ListReportsByLessee', ['L1', '1', '']);
        assert.deepEqual((first.records as { report_id: string }[]).map((r) => r.report_id), ['rep0']);
        const second = await ok('ListReportsByLessee', ['L1', '1', first.bookmark]);
        assert.deepEqual((second.records as { report_id: string }[]).map((r) => r.report_id), ['rep1']);
        assert.equal(second.bookmark, '');
        assert.deepEqual((await ok('ListReportsByLessee', ['L2', '10', ''])).records, []);
    });

    it('refuses a bookmark outside the lessee\'s own list', async () => {
        await ok('SubmitMeterReading', [{ ...READING_1, reading_id: 'r0', lessee_id: 'L0' }], GRID);
        await ok('SubmitReport', [{ ...REPORT, report_id: 'L0-rep', lessee_id: 'L0', meter_reading_ids: ['r0'] }]);
        await ok('SubmitReport', [REPORT]);
        // L0's index key sorts before L1's: the peer would scan from it through L1's reports, and
        // from `\u0000reading\u0000` through the meter readings of every lessee.
        const foreign = ['\u0000report_by_lessee\u0000L0\u0000', '\u0000report_by_lessee\u0000L0\u0000L0-rep\u0000',
            '\u0000report_by_lessee\u0000L\u0000', '\u0000reading\u0000', '\u0000factor\u0000', 'roles', 'zzz'];
        for (const bookmark of foreign) {
            const result = await call('ListReportsByLessee', ['L1', '10', bookmark], PARTNER);
            assert.equal(result.error, 'INVALID_ARGUMENT: bookmark: does not belong to this list', JSON.stringify(bookmark));
            assert.deepEqual(result.writes, []);
        }
        const own = await ok('ListReportsByLessee', ['L1', '10', '\u0000report_by_lessee\u0000L1\u0000rep1\u0000'], PARTNER);
        assert.deepEqual((own.records as { report_id: string }[]).map((r) => r.report_id), ['rep1']);
        const L0 = await ok('ListReportsByLessee', ['L0', '10', ''], PARTNER);
        assert.deepEqual((L0.records as { report_id: string }[]).map((r) => r.report_id), ['L0-rep']);
    });

    const badReports: [string, string, unknown][] = [
        ['INVALID_ARGUMENT', 'float scope 1', { ...REPORT, scope1_kg: 1.5 }],
        ['INVALID_ARGUMENT', 'negative scope 1', { ...REPORT, scope1_kg: -1 }],
        ['INVALID_ARGUMENT', 'scope 1 above 10^11', { ...REPORT, scope1_kg: 1e11 + 1 }],
        ['INVALID_ARGUMENT', 'bad sha256', { ...REPORT, evidence_sha256: 'A'.repeat(64) }],
        ['INVALID_ARGUMENT', 'empty range', { ...REPORT, period_end: '2025-01-01' }],
        ['INVALID_ARGUMENT', 'duplicate reading', { ...REPORT, meter_reading_ids: ['r1', 'r1'] }],
        ['INVALID_ARGUMENT', 'reading ids not a list', { ...REPORT, meter_reading_ids: 'r1' }],
        ['INVALID_ARGUMENT', 'reading outside the period', { ...REPORT, period_end: '2025-03-01' }],
        ['INVALID_ARGUMENT', 'reading of another lessee', { ...REPORT, lessee_id: 'L2' }],
        ['INVALID_ARGUMENT', 'unknown field', { ...REPORT, scope3_kg: 1 }],
        ['NOT_FOUND', 'unknown reading', { ...REPORT, meter_reading_ids: ['nope'] }],
        ['NOT_FOUND', 'unknown superseded report', { ...REPORT, supersedes: 'nope' }],
    ];
    for (const [code, name, report] of badReports) {
        it(`SubmitReport refuses ${name} (${code})`, () => fails(code, 'SubmitReport', [report]));
    }
    it('SubmitReport refuses a reading without a published factor (NOT_FOUND)', async () => {
        await ok('SubmitMeterReading', [{ ...READING_1, reading_id: 'nf', region: 'NOFACTOR' }], GRID);
        await fails('NOT_FOUND', 'SubmitReport', [{ ...REPORT, meter_reading_ids: ['nf'] }]);
    });
    it('SubmitReport refuses a duplicate report id (ALREADY_EXISTS)', async () => {
        await ok('SubmitReport', [REPORT]);
        await fails('ALREADY_EXISTS', 'SubmitReport', [{ ...REPORT, period_end: '2025-02-01', meter_reading_ids: ['r1'] }]);
    });

    const badQueries: [string, string, string[]][] = [
        ['INVALID_ARGUMENT', 'VerifyReport', ['']], ['NOT_FOUND', 'VerifyReport', ['nope']],
        ['INVALID_ARGUMENT', 'RejectReport', ['rep1', '']], ['INVALID_ARGUMENT', 'RejectReport', ['rep1']],
        ['NOT_FOUND', 'GetReport', ['nope']], ['INVALID_ARGUMENT', 'GetReport', ['a b']],
        ['INVALID_ARGUMENT', 'ListReportsByLessee', ['L1', '0', '']], ['INVALID_ARGUMENT', 'ListReportsByLessee', ['L1', '101', '']],
        ['INVALID_ARGUMENT', 'ListReportsByLessee', ['L1', '10']],
        ['INVALID_ARGUMENT', 'GetVerifiedReportForPeriod', ['L1', '2025-01-01', '2025-02-30']],
        ['INVALID_ARGUMENT', 'GetHistory', ['lease:x']], ['INVALID_ARGUMENT', 'GetHistory', ['factor:GD-SZ:25']],
        ['INVALID_ARGUMENT', 'GetRoles', ['extra']],
    ];
    for (const [code, fcn, args] of badQueries) {
        it(`${fcn}(${args.join(', ')}) -> ${code}`, async () => {
            await ok('SubmitReport', [REPORT]);
            await fails(code, fcn, args, REGULATOR);
        });
    }

    it('emits one event per write, with the returned record as payload', async () => {
        const result = await call('SubmitReport', [REPORT]);
        assert.equal(result.event?.name, 'ReportSubmitted');
        assert.equal(result.event?.payload, result.payload);
    });
});
