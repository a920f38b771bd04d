import { Context } from 'fabric-contract-api';
import {
    alreadyExists, answerWithEvent, canonicalJson, formatDate, invalidArgument, invalidState, keyHistory, MAX_EMISSIONS_KG,
    notFound, parseDate, parseIntArg, parseObjectArg, readId, readJson, readText, requireRole, TxClock, txClock,
    writeJson,
} from '@carbonlease/common';
import { leaseKey } from './keys';
import { readProject } from './projects';
import { adjustmentFromPeriod, computeSchedule, RateAdjustment, ScheduleRow } from './schedule';
import { LeaseTerms, parseTerms, periodRange } from './terms';

export const EMISSION_CHAINCODE = 'emission';

export type LeaseStatus = 'draft' | 'active' | 'matured' | 'terminated';

/** A fixed rate with every input needed to recompute it. */
export interface Adjustment extends RateAdjustment {
    period: number;
    based_on_period: number;
    period_start: string;
    period_end: string;
    report_id: string | null;
    verified_kg: number | null;
    fixed_at: string;
}

export interface Payment {
    lease_id: string;
    period: number;
    amount_fen: number;
    paid_on: string;
    due_date: string;
    recorded_at: string;
}

export interface Lease {
    lease_id: string;
    lessee_id: string;
    project_id: string;
    terms: LeaseTerms;
    status: LeaseStatus;
    created_at: string;
    activated_at: string | null;
    terminated_at: string | null;
    termination_reason: string | null;
    matured_at: string | null;
    fixed_through_period: number;
    paid_through_period: number;
    adjustments: Adjustment[];
    payments: Payment[];
}

/** Rates of periods not fixed yet are projected at the base rate (adjustment 0). */
function leaseSchedule(lease: Lease): ScheduleRow[] {
    const adjustments = [0, ...lease.adjustments.map((adjustment) => adjustment.adjustment_bps)];
    while (adjustments.length < lease.terms.term_periods) {
        adjustments.push(0);
    }
    return computeSchedule(lease.terms, adjustments);
}

async function readLease(ctx: Context, leaseId: string): Promise<Lease> {
    const lease = await readJson<Lease>(ctx, leaseKey(ctx, leaseId));
    if (lease === null) {
        throw notFound(`lease ${leaseId} does not exist`);
    }
    return lease;
}

function requireStatus(lease: Lease, ...allowed: LeaseStatus[]): void {
    if (!allowed.includes(lease.status)) {
        throw invalidState(`lease ${lease.lease_id} is ${lease.status}; this needs ${allowed.join(' or ')}`);
    }
}

async function saveLease(ctx: Context, lease: Lease, eventName: string): Promise<string> {
    await writeJson(ctx, leaseKey(ctx, lease.lease_id), lease);
    return answerWithEvent(ctx, eventName, lease);
}

export async function createLease(ctx: Context, leaseJson: string): Promise<string> {
    const input = parseObjectArg(leaseJson, 'lease_json', ['lease_id', 'lessee_id', 'project_id', 'terms']);
    const leaseId = readId(input.lease_id, 'lease_id');
    const lesseeId = readId(input.lessee_id, 'lessee_id');
    const projectId = readId(input.project_id, 'project_id');
    const terms = parseTerms(input.terms, 'terms');
    // Computing the schedule once proves every value of it is an exact JSON integer.
    computeSchedule(terms, new Array<number>(terms.term_periods).fill(0));
    await requireRole(ctx, 'lessor');
    await readProject(ctx, projectId);
    if (await readJson<Lease>(ctx, leaseKey(ctx, leaseId)) !== null) {
        throw alreadyExists(`lease ${leaseId} already exists`);
    }
    const lease: Lease = {
        lease_id: leaseId,
        lessee_id: lesseeId,
        project_id: projectId,
        terms,
        status: 'draft',
        created_at: txClock(ctx).iso,
        activated_at: null,
        terminated_at: null,
        termination_reason: null,
        matured_at: null,
        fixed_through_period: 1, // period 1 runs at the base rate by definition
        paid_through_period: 0,
        adjustments: [],
        payments: [],
    };
    return saveLease(ctx, lease, 'LeaseCreated');
}

export async function activateLease(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'draft');
    return saveLease(ctx, { ...lease, status: 'active', activated_at: txClock(ctx).iso }, 'LeaseActivated');
}

export async function terminateLease(ctx: Context, leaseIdArg: string, reasonArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    const reason = readText(reasonArg, 'reason', 1, 1000, 'multi');
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'draft', 'active');
    return saveLease(ctx, {
        ...lease, status: 'terminated', terminated_at: txClock(ctx).iso, termination_reason: reason,
    }, 'LeaseTerminated');
}

export async function getLease(ctx: Context, leaseIdArg: string): Promise<string> {
    return canonicalJson(await readLease(ctx, readId(leaseIdArg, 'lease_id')));
}

export async function getSchedule(ctx: Context, leaseIdArg: string): Promise<string> {
    const lease = await readLease(ctx, readId(leaseIdArg, 'lease_id'));
    return canonicalJson({
        lease_id: lease.lease_id,
        status: lease.status,
        fixed_through_period: lease.fixed_through_period,
        paid_through_period: lease.paid_through_period,
        rows: leaseSchedule(lease),
    });
}

export async function getLeaseHistory(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    await readLease(ctx, leaseId);
    return canonicalJson(await keyHistory(ctx, leaseKey(ctx, leaseId)));
}

interface VerifiedEmissions {
    report_id: string;
    total_kg: number;
}

/**
 * Asks the emission chaincode (same channel, read-only) for the lessee's verified report of
 * exactly [start, end), and checks the answer is what was asked for before money depends on it.
 */
async function verifiedEmissions(ctx: Context, lesseeId: string, start: string, end: string): Promise<VerifiedEmissions | null> {
    let response;
    try {
        response = await ctx.stub.invokeChaincode(EMISSION_CHAINCODE,
            ['GetVerifiedReportForPeriod', lesseeId, start, end], ctx.stub.getChannelID());
    } catch (error) {
        throw invalidState(`emission chaincode query failed: ${(error as Error).message}`);
    }
    if (response.status !== 200) {
        throw invalidState(`emission chaincode query failed: ${response.message}`);
    }
    let report: Record<string, unknown> | null;
    try {
        report = JSON.parse(Buffer.from(response.payload ?? []).toString('utf8'));
    } catch {
        throw invalidState('emission chaincode returned a payload that is not JSON');
    }
    if (report === null) {
        return null;
    }
    const totalKg = report.total_kg;
    if (report.status !== 'verified' || report.lessee_id !== lesseeId || report.period_start !== start ||
        report.period_end !== end || typeof report.report_id !== 'string' || typeof totalKg !== 'number' ||
        !Number.isSafeInteger(totalKg) || totalKg < 0 || totalKg > MAX_EMISSIONS_KG) {
        throw invalidState('emission chaincode returned a report that does not match the query');
    }
    return { report_id: report.report_id, total_kg: totalKg };
}

/**
 * Fixes the rate of period k+1 (k = fixed_through_period) from period k's verified emissions,
 * once period k has ended by the transaction clock. Rates are fixed in order, one per call.
 */
export async function fixNextRate(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'active');
    const basedOn = lease.fixed_through_period;
    if (basedOn >= lease.terms.term_periods) {
        throw invalidState(`all ${lease.terms.term_periods} rates of lease ${leaseId} are fixed`);
    }
    const range = periodRange(lease.terms, basedOn);
    const clock: TxClock = txClock(ctx);
    if (formatDate(clock.date) < range.end) {
        throw invalidState(`period ${basedOn} runs until ${range.end}; the rate of period ${basedOn + 1} ` +
            'can be fixed from that date');
    }
    const emissions = await verifiedEmissions(ctx, lease.lessee_id, range.start, range.end);
    const computed = adjustmentFromPeriod(lease.terms, basedOn, emissions === null ? null : emissions.total_kg);
    const adjustment: Adjustment = {
        period: basedOn + 1,
        based_on_period: basedOn,
        period_start: range.start,
        period_end: range.end,
        report_id: emissions === null ? null : emissions.report_id,
        verified_kg: emissions === null ? null : emissions.total_kg,
        ...computed,
        fixed_at: clock.iso,
    };
    const updated: Lease = {
        ...lease,
        fixed_through_period: basedOn + 1,
        adjustments: [...lease.adjustments, adjustment],
    };
    await writeJson(ctx, leaseKey(ctx, leaseId), updated);
    const result = { lease_id: leaseId, ...adjustment };
    return answerWithEvent(ctx, 'RateFixed', result);
}

/**
 * Payments are recorded in period order, for exactly the scheduled instalment, once the period
 * has started and its rate is fixed. Paying the last period matures the lease.
 */
export async function recordPayment(
    ctx: Context, leaseIdArg: string, periodArg: string, amountArg: string, paidOnArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    const period = parseIntArg(periodArg, 'period', 1, Number.MAX_SAFE_INTEGER);
    const amountFen = parseIntArg(amountArg, 'amount_fen', 0, Number.MAX_SAFE_INTEGER);
    const paidOn = formatDate(parseDate(paidOnArg, 'paid_on'));
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'active');
    if (period > lease.terms.term_periods) {
        throw invalidArgument('period', `lease ${leaseId} has ${lease.terms.term_periods} periods`);
    }
    if (period !== lease.paid_through_period + 1) {
        throw invalidState(`period ${period} is not the next unpaid period (${lease.paid_through_period + 1})`);
    }
    if (period > lease.fixed_through_period) {
        throw invalidState(`the rate of period ${period} is not fixed yet; call FixNextRate first`);
    }
    const range = periodRange(lease.terms, period);
    const clock = txClock(ctx);
    const today = formatDate(clock.date);
    if (today < range.start) {
        throw invalidState(`period ${period} starts on ${range.start}; it cannot be paid before`);
    }
    if (paidOn < range.start || paidOn > today) {
        throw invalidArgument('paid_on', `must be between the period start ${range.start} and today ${today}`);
    }
    const row = leaseSchedule(lease)[period - 1];
    if (amountFen !== row.instalment_fen) {
        throw invalidArgument('amount_fen', `must equal the instalment of period ${period}: ${row.instalment_fen}`);
    }
    const payment: Payment = {
        lease_id: leaseId, period, amount_fen: amountFen, paid_on: paidOn, due_date: range.end, recorded_at: clock.iso,
    };
    const matured = period === lease.terms.term_periods;
    const updated: Lease = {
        ...lease,
        paid_through_period: period,
        payments: [...lease.payments, payment],
        status: matured ? 'matured' : lease.status,
        matured_at: matured ? clock.iso : null,
    };
    await writeJson(ctx, leaseKey(ctx, leaseId), updated);
    const result = { ...payment, lease_status: updated.status };
    return answerWithEvent(ctx, 'PaymentRecorded', result);
}
