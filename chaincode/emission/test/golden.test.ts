/**
 * The emission chaincode's golden story (see common/test/golden.ts): a factor, meter readings,
 * a report rejected and corrected, the correction verified, a second lessee's report.
 * golden/chaincode/emission.json holds it.
 */
import { describe, it } from 'node:test';
import { admin, at, Caller, client, FakeLedger } from '@carbonlease/common/dist/test/harness';
import { GoldenStory } from '@carbonlease/common/dist/test/golden';
import { EmissionContract } from '../src';

const ROLES = { lessor: ['LessorMSP'], grid: ['GridMSP'], regulator: ['RegulatorMSP'], partner: ['HKPartnerMSP'] };
const LESSOR = client('LessorMSP');
const GRID = client('GridMSP');
const REGULATOR = client('RegulatorMSP');
const REPORT = { report_id: 'rep1', lessee_id: 'L1', period_start: '2025-01-01', period_end: '2025-04-01', scope1_kg: 100,
    meter_reading_ids: ['r1', 'r2'], evidence_sha256: 'a'.repeat(64) };

describe('emission: golden story', () => {
    it('matches golden/chaincode/emission.json', async () => {
        const emission = new EmissionContract();
        const ledger = new FakeLedger();
        const story = new GoldenStory('emission');
        const step = async (name: string, fcn: string, args: unknown[], caller: Caller, time: string) => {
            const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
            story.record(name, fcn, text, caller, at(time), await ledger.invoke(emission, fcn, text, caller, at(time)));
        };
        await step('roles set', 'SetRoles', [ROLES], admin('LessorMSP'), '2025-01-01');
        await step('factor published', 'PublishFactor', [{ region: 'GD-SZ', year: 2025, factor_g_per_kwh: 581 }], REGULATOR, '2025-01-02');
        await step('meter reading (January)', 'SubmitMeterReading', [{ reading_id: 'r1', lessee_id: 'L1', facility_id: 'F1',
            region: 'GD-SZ', period_start: '2025-01-01', period_end: '2025-02-01', kwh: 1234 }], GRID, '2025-02-02');
        await step('meter reading (February-March)', 'SubmitMeterReading', [{ reading_id: 'r2', lessee_id: 'L1', facility_id: 'F1',
            region: 'GD-SZ', period_start: '2025-02-01', period_end: '2025-04-01', kwh: 500 }], GRID, '2025-04-02');
        await step('report submitted', 'SubmitReport', [REPORT], LESSOR, '2025-04-05');
        await step('report rejected', 'RejectReport', ['rep1', 'evidence missing'], REGULATOR, '2025-04-06');
        await step('correction submitted', 'SubmitReport', [{ ...REPORT, report_id: 'rep1b', scope1_kg: 120, supersedes: 'rep1' }], LESSOR, '2025-04-07');
        await step('correction verified', 'VerifyReport', ['rep1b'], REGULATOR, '2025-04-08');
        await step('second lessee report submitted', 'SubmitReport', [{ ...REPORT, report_id: 'rep2', lessee_id: 'L2',
            meter_reading_ids: [], scope1_kg: 7000 }], LESSOR, '2025-04-09');
        await step('verified report read', 'GetReport', ['rep1b'], GRID, '2025-04-10');
        story.check();
    });
});
