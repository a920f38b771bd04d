/**
 * The lease chaincode's golden story (see common/test/golden.ts): a project library, partner
 * interest, one lease run from draft to matured with rates fixed from verified emissions and a
 * missing report, read by a member and by a partner, and one lease terminated as a draft whose
 * private records are purged after their retention. Lessee, terms, payments and the termination
 * reason travel as transient data, as the gateway sends them. golden/chaincode/lease.json holds it.
 */
import { describe, it } from 'node:test';
import { admin, at, Caller, client, FakeLedger } from '@carbonlease/common/dist/test/harness';
import { GoldenStory } from '@carbonlease/common/dist/test/golden';
import { EmissionContract } from '@carbonlease/emission';
import { LeaseContract } from '../src';
import { TERMS_COLLECTION } from '../src/keys';
import { FLOATING_TERMS } from './fixtures';

const ROLES = { lessor: ['LessorMSP'], grid: ['GridMSP'], regulator: ['RegulatorMSP'], partner: ['HKPartnerMSP', 'MacaoPartnerMSP'] };
const LESSOR = client('LessorMSP');
const HK = client('HKPartnerMSP');
const REGULATOR = client('RegulatorMSP');
const SALT = 'a1'.repeat(32);
const leasePrivate = (lesseeId: string, lesseeName: string) =>
    ({ lease_private: JSON.stringify({ lessee_id: lesseeId, lessee_name: lesseeName, terms: FLOATING_TERMS, salt: SALT }) });
const payment = (amountFen: number, paidOn: string) => ({ payment: JSON.stringify({ amount_fen: amountFen, paid_on: paidOn }) });

describe('lease: golden story', () => {
    it('matches golden/chaincode/lease.json', async () => {
        const lease = new LeaseContract();
        const emission = new EmissionContract();
        const ledger = new FakeLedger();
        ledger.collections.set(TERMS_COLLECTION, ['LessorMSP', 'RegulatorMSP']);
        const emissionLedger = new FakeLedger();
        ledger.register('emission', emission, LESSOR, emissionLedger);
        const story = new GoldenStory('lease');
        const step = async (name: string, fcn: string, args: unknown[], caller: Caller, time: string,
            transient: Record<string, string> = {}) => {
            const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
            story.record(name, fcn, text, caller, at(time), await ledger.invoke(lease, fcn, text, caller, at(time), transient),
                transient);
        };
        // Emission records the lease chaincode reads (for the lessee's pseudonym R1); they are
        // emission's story, not recorded here.
        const verified = async (id: string, start: string, end: string, kg: number) => {
            const report = { report_id: id, lessee_id: 'R1', period_start: start, period_end: end, scope1_kg: kg,
                meter_reading_ids: [], evidence_sha256: 'b'.repeat(64) };
            await emissionLedger.invoke(emission, 'SubmitReport', [JSON.stringify(report)], LESSOR, at(end));
            await emissionLedger.invoke(emission, 'VerifyReport', [id], REGULATOR, at(end));
        };
        await emissionLedger.invoke(emission, 'SetRoles', [JSON.stringify(ROLES)], admin('LessorMSP'), at('2024-12-01'));

        await step('roles set', 'SetRoles', [ROLES], admin('LessorMSP'), '2024-12-01');
        await step('lessor registers a project', 'RegisterProject', [{ project_id: 'P1', name: 'Shenzhen rooftop PV',
            category: 'clean_energy', expected_annual_reduction_kg: 120000, location: 'Shenzhen' }], LESSOR, '2024-12-02');
        await step('partner registers a project', 'RegisterProject', [{ project_id: 'P2', name: 'Macao EV fleet',
            category: 'ev', expected_annual_reduction_kg: 45000, location: 'Macao' }], HK, '2024-12-03');
        await step('partner expresses interest', 'ExpressInterest', ['P1', { amount_fen: 50000000, note: 'co-finance 50%' }], HK, '2024-12-04');
        await step('lease created (draft)', 'CreateLease', [{ lease_id: 'LS1', lessee_ref: 'R1', project_id: 'P1' }], LESSOR, '2024-12-20',
            leasePrivate('L1', 'Lessee One Ltd'));
        await step('second lease created (draft)', 'CreateLease', [{ lease_id: 'LS2', lessee_ref: 'R2', project_id: 'P2' }], LESSOR, '2024-12-21',
            leasePrivate('L2', 'Lessee Two Ltd'));
        await step('draft lease terminated', 'TerminateLease', ['LS2'], LESSOR, '2024-12-22',
            { termination: JSON.stringify({ reason: 'lessee withdrew' }) });
        await step('lease activated', 'ActivateLease', ['LS1'], LESSOR, '2024-12-30');
        await verified('q1', '2025-01-01', '2025-04-01', 8500);
        await step('period 2 rate fixed from a verified report', 'FixNextRate', ['LS1'], LESSOR, '2025-04-01T00:00:00Z');
        await step('period 1 paid', 'RecordPayment', ['LS1', '1'], LESSOR, '2025-04-01', payment(262500, '2025-03-31'));
        await step('period 3 rate fixed without a report', 'FixNextRate', ['LS1'], LESSOR, '2025-07-01');
        await step('period 2 paid', 'RecordPayment', ['LS1', '2'], LESSOR, '2025-07-02', payment(258438, '2025-07-01'));
        await verified('q3', '2025-07-01', '2025-10-01', 9600);
        await step('period 4 rate fixed from a verified report', 'FixNextRate', ['LS1'], LESSOR, '2025-10-01');
        await step('period 3 paid', 'RecordPayment', ['LS1', '3'], LESSOR, '2025-10-02', payment(258125, '2025-10-01'));
        await step('period 4 paid: matured', 'RecordPayment', ['LS1', '4'], LESSOR, '2026-01-02', payment(253750, '2026-01-01'));
        await step('matured lease read', 'GetLease', ['LS1'], LESSOR, '2026-01-03');
        await step('matured lease read by a partner', 'GetLease', ['LS1'], HK, '2026-01-03');
        await step('project list read', 'ListProjects', ['10', ''], HK, '2026-01-03');
        await step('draft lease private data purged', 'PurgeLeasePrivateData', ['LS2'], LESSOR, '2031-01-02');
        story.check();
    });
});
