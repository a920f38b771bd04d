import { Context } from 'fabric-contract-api';
import {
    addMonths, alreadyExists, answerWithEvent, canonicalJson, formatDate, invalidArgument, invalidState, keyHistory,
    MAX_EMISSIONS_KG, notFound, parseDate, parseIntArg, parseObjectArg, readId, readInt, readJson, readSha256,
    readText, requireRole, transientObject, TxClock, txClock, writeJson,
} from '@carbonlease/common';
import { adjustmentKey, leaseKey, paymentKey, TERMS_COLLECTION, terminationKey, termsKey } from './keys';
import {
    Adjustment, Payment, PrivateTerms, privateView, readAdjustments, readTerms, requireTerms, Termination,
    writePrivate,
} from './private';
import { readProject } from './projects';
import { adjustmentFromPeriod, computeSchedule, ScheduleRow } from './schedule';
import { parseTerms, periodRange } from './terms';

export const EMISSION_CHAINCODE = 'emission';

export type LeaseStatus = 'draft' | 'active' | 'matured' | 'terminated';

/** Private records of a lease may be purged this long after the end of its last period. */
export const RETENTION_MONTHS = 60;

/** A private record as public state shows it: which period, when, and the hash of the record. */
export interface AdjustmentRef {
    period: number;
    fixed_at: string;
    record_hash: string;
}

export interface PaymentRef {
    period: number;
    recorded_at: string;
    record_hash: string;
}

/**
 * The public lease, on every peer: no price, no lessee. `lessee_ref` is the pseudonym under
 * which the lessee's emissions are reported; `terms_hash` is the SHA-256 of the private terms
 * record (salted), so a member can prove to anyone which terms were agreed.
 */
export interface Lease {
    lease_id: string;
    project_id: string;
    lessee_ref: string;
    status: LeaseStatus;
    created_at: string;
    activated_at: string | null;
    terminated_at: string | null;
    matured_at: string | null;
    fixed_through_period: number;
    paid_through_period: number;
    terms_hash: string;
    termination_hash: string | null;
    adjustments: AdjustmentRef[];
    payments: PaymentRef[];
    private_data_purged_at: string | null;
}

/** Rates of periods not fixed yet are projected at the base rate (adjustment 0). */
function leaseSchedule(terms: PrivateTerms, adjustments: Adjustment[]): ScheduleRow[] {
    const adjustmentsBps = [0, ...adjustments.map((adjustment) => adjustment.adjustment_bps)];
    while (adjustmentsBps.length < terms.terms.term_periods) {
        adjustmentsBps.push(0);
    }
    return computeSchedule(terms.terms, adjustmentsBps);
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

/**
 * lease_json (public) = {lease_id, project_id, lessee_ref}; transient `lease_private` =
 * {lessee_id, lessee_name, terms, salt}. The answer and the event are the public lease only:
 * a transaction's answer is written into the block, which every peer keeps.
 */
export async function createLease(ctx: Context, leaseJson: string): Promise<string> {
    const input = parseObjectArg(leaseJson, 'lease_json', ['lease_id', 'project_id', 'lessee_ref']);
    const leaseId = readId(input.lease_id, 'lease_id');
    const projectId = readId(input.project_id, 'project_id');
    const lesseeRef = readId(input.lessee_ref, 'lessee_ref');
    const secret = transientObject(ctx, 'lease_private', ['lessee_id', 'lessee_name', 'terms', 'salt']);
    const record: PrivateTerms = {
        lease_id: leaseId,
        lessee_id: readId(secret.lessee_id, 'lease_private.lessee_id'),
        lessee_name: readText(secret.lessee_name, 'lease_private.lessee_name', 1, 200),
        terms: parseTerms(secret.terms, 'lease_private.terms'),
        salt: readSha256(secret.salt, 'lease_private.salt'),
    };
    if (record.lessee_id === lesseeRef) {
        throw invalidArgument('lessee_ref', 'must not be the lessee id: it is the public pseudonym of the lessee');
    }
    // Computing the schedule once proves every value of it is an exact JSON integer.
    computeSchedule(record.terms, new Array<number>(record.terms.term_periods).fill(0));
    await requireRole(ctx, 'lessor');
    await readProject(ctx, projectId);
    if (await readJson<Lease>(ctx, leaseKey(ctx, leaseId)) !== null) {
        throw alreadyExists(`lease ${leaseId} already exists`);
    }
    const lease: Lease = {
        lease_id: leaseId,
        project_id: projectId,
        lessee_ref: lesseeRef,
        status: 'draft',
        created_at: txClock(ctx).iso,
        activated_at: null,
        terminated_at: null,
        matured_at: null,
        fixed_through_period: 1, // period 1 runs at the base rate by definition
        paid_through_period: 0,
        terms_hash: await writePrivate(ctx, termsKey(ctx, leaseId), record),
        termination_hash: null,
        adjustments: [],
        payments: [],
        private_data_purged_at: null,
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

/** The reason arrives as transient `termination` = {reason}: free text may name the lessee. */
export async function terminateLease(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    const secret = transientObject(ctx, 'termination', ['reason']);
    const reason = readText(secret.reason, 'termination.reason', 1, 1000, 'multi');
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'draft', 'active');
    const { salt } = await requireTerms(ctx, leaseId);
    const termination: Termination = { lease_id: leaseId, reason, salt };
    return saveLease(ctx, {
        ...lease,
        status: 'terminated',
        terminated_at: txClock(ctx).iso,
        termination_hash: await writePrivate(ctx, terminationKey(ctx, leaseId), termination),
    }, 'LeaseTerminated');
}

/** The public lease, with `private` (every private record) when the caller's org may read them. */
export async function getLease(ctx: Context, leaseIdArg: string): Promise<string> {
    const lease = await readLease(ctx, readId(leaseIdArg, 'lease_id'));
    return canonicalJson({ ...lease, private: await privateView(ctx, lease) });
}

/** Rows need the terms: null for an org that may not read them. */
export async function getSchedule(ctx: Context, leaseIdArg: string): Promise<string> {
    const lease = await readLease(ctx, readId(leaseIdArg, 'lease_id'));
    const view = await privateView(ctx, lease);
    return canonicalJson({
        lease_id: lease.lease_id,
        status: lease.status,
        fixed_through_period: lease.fixed_through_period,
        paid_through_period: lease.paid_through_period,
        rows: view === null ? null : leaseSchedule(view.terms, view.adjustments),
    });
}

export async function getLeaseHistory(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    await readLease(ctx, leaseId);
    return canonicalJson(await keyHistory(ctx, leaseKey(ctx, leaseId)));
}

/**
 * The private terms record as stored, read straight from the collection with no role check of
 * our own: the peer decides (memberOnlyRead), so a non-member gets the peer's refusal.
 */
export async function getPrivateTerms(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    const terms = await readTerms(ctx, leaseId);
    if (terms === null) {
        throw notFound(`no private terms of lease ${leaseId} on this peer`);
    }
    return canonicalJson(terms);
}

interface VerifiedEmissions {
    report_id: string;
    total_kg: number;
}

/**
 * Asks the emission chaincode (same channel, read-only) for the verified report of the lessee's
 * pseudonym for exactly [start, end), and checks the answer is what was asked for before money
 * depends on it.
 */
async function verifiedEmissions(ctx: Context, lesseeRef: string, start: string, end: string): Promise<VerifiedEmissions | null> {
    let response;
    try {
        response = await ctx.stub.invokeChaincode(EMISSION_CHAINCODE,
            ['GetVerifiedReportForPeriod', lesseeRef, start, end], ctx.stub.getChannelID());
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
    if (report.status !== 'verified' || report.lessee_id !== lesseeRef || report.period_start !== start ||
        report.period_end !== end || typeof report.report_id !== 'string' || typeof totalKg !== 'number' ||
        !Number.isSafeInteger(totalKg) || totalKg < 0 || totalKg > MAX_EMISSIONS_KG) {
        throw invalidState('emission chaincode returned a report that does not match the query');
    }
    return { report_id: report.report_id, total_kg: totalKg };
}

/**
 * Fixes the rate of period k+1 (k = fixed_through_period) from period k's verified emissions,
 * once period k has ended by the transaction clock. Rates are fixed in order, one per call.
 * The adjustment with its inputs is private; public state and the event get its hash.
 */
export async function fixNextRate(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'active');
    const { terms, salt } = await requireTerms(ctx, leaseId);
    const basedOn = lease.fixed_through_period;
    if (basedOn >= terms.term_periods) {
        throw invalidState(`all ${terms.term_periods} rates of lease ${leaseId} are fixed`);
    }
    const range = periodRange(terms, basedOn);
    const clock: TxClock = txClock(ctx);
    if (formatDate(clock.date) < range.end) {
        throw invalidState(`period ${basedOn} runs until ${range.end}; the rate of period ${basedOn + 1} ` +
            'can be fixed from that date');
    }
    const emissions = await verifiedEmissions(ctx, lease.lessee_ref, range.start, range.end);
    const adjustment: Adjustment = {
        lease_id: leaseId,
        period: basedOn + 1,
        based_on_period: basedOn,
        period_start: range.start,
        period_end: range.end,
        report_id: emissions === null ? null : emissions.report_id,
        verified_kg: emissions === null ? null : emissions.total_kg,
        ...adjustmentFromPeriod(terms, basedOn, emissions === null ? null : emissions.total_kg),
        fixed_at: clock.iso,
        salt,
    };
    const reference: AdjustmentRef = {
        period: adjustment.period,
        fixed_at: clock.iso,
        record_hash: await writePrivate(ctx, adjustmentKey(ctx, leaseId, adjustment.period), adjustment),
    };
    await writeJson(ctx, leaseKey(ctx, leaseId), {
        ...lease, fixed_through_period: adjustment.period, adjustments: [...lease.adjustments, reference],
    });
    return answerWithEvent(ctx, 'RateFixed', { lease_id: leaseId, ...reference });
}

/**
 * Payments are recorded in period order, for exactly the scheduled instalment, once the period
 * has started and its rate is fixed. Paying the last period matures the lease. The amount and
 * date arrive as transient `payment` = {amount_fen, paid_on}.
 */
export async function recordPayment(ctx: Context, leaseIdArg: string, periodArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    const period = parseIntArg(periodArg, 'period', 1, Number.MAX_SAFE_INTEGER);
    const secret = transientObject(ctx, 'payment', ['amount_fen', 'paid_on']);
    const amountFen = readInt(secret.amount_fen, 'payment.amount_fen', 0, Number.MAX_SAFE_INTEGER);
    const paidOn = formatDate(parseDate(secret.paid_on, 'payment.paid_on'));
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'active');
    const terms = await requireTerms(ctx, leaseId);
    const periods = terms.terms.term_periods;
    if (period > periods) {
        throw invalidArgument('period', `lease ${leaseId} has ${periods} periods`);
    }
    if (period !== lease.paid_through_period + 1) {
        throw invalidState(`period ${period} is not the next unpaid period (${lease.paid_through_period + 1})`);
    }
    if (period > lease.fixed_through_period) {
        throw invalidState(`the rate of period ${period} is not fixed yet; call FixNextRate first`);
    }
    const range = periodRange(terms.terms, period);
    const clock = txClock(ctx);
    const today = formatDate(clock.date);
    if (today < range.start) {
        throw invalidState(`period ${period} starts on ${range.start}; it cannot be paid before`);
    }
    if (paidOn < range.start || paidOn > today) {
        throw invalidArgument('payment.paid_on', `must be between the period start ${range.start} and today ${today}`);
    }
    const adjustments = await readAdjustments(ctx, leaseId, lease.fixed_through_period);
    const row = leaseSchedule(terms, adjustments)[period - 1];
    if (amountFen !== row.instalment_fen) {
        throw invalidArgument('payment.amount_fen', `must equal the instalment of period ${period}: ${row.instalment_fen}`);
    }
    const payment: Payment = {
        lease_id: leaseId, period, amount_fen: amountFen, paid_on: paidOn, due_date: range.end, recorded_at: clock.iso,
        salt: terms.salt,
    };
    const reference: PaymentRef = {
        period, recorded_at: clock.iso, record_hash: await writePrivate(ctx, paymentKey(ctx, leaseId, period), payment),
    };
    const matured = period === periods;
    const updated: Lease = {
        ...lease,
        paid_through_period: period,
        payments: [...lease.payments, reference],
        status: matured ? 'matured' : lease.status,
        matured_at: matured ? clock.iso : null,
    };
    await writeJson(ctx, leaseKey(ctx, leaseId), updated);
    return answerWithEvent(ctx, 'PaymentRecorded', { lease_id: leaseId, ...reference, lease_status: updated.status });
}

/**
 * Removes every private record of a terminated or matured lease from every member peer
 * (Fabric's PurgePrivateData: gone from state and from the private data store, history
 * included), once RETENTION_MONTHS have passed since the end of its last period. Public state
 * and its hashes stay, so the agreed terms remain provable by whoever kept a copy.
 */
export async function purgeLeasePrivateData(ctx: Context, leaseIdArg: string): Promise<string> {
    const leaseId = readId(leaseIdArg, 'lease_id');
    await requireRole(ctx, 'lessor');
    const lease = await readLease(ctx, leaseId);
    requireStatus(lease, 'terminated', 'matured');
    if (lease.private_data_purged_at !== null) {
        throw invalidState(`the private data of lease ${leaseId} was purged at ${lease.private_data_purged_at}`);
    }
    const { terms } = await requireTerms(ctx, leaseId);
    const clock = txClock(ctx);
    const retainedUntil = formatDate(addMonths(parseDate(terms.start_date, 'start_date'),
        terms.term_periods * terms.period_months + RETENTION_MONTHS));
    if (formatDate(clock.date) < retainedUntil) {
        throw invalidState(`the private data of lease ${leaseId} is retained until ${retainedUntil}`);
    }
    const keys = [termsKey(ctx, leaseId)];
    for (let period = 2; period <= lease.fixed_through_period; period++) {
        keys.push(adjustmentKey(ctx, leaseId, period));
    }
    for (let period = 1; period <= lease.paid_through_period; period++) {
        keys.push(paymentKey(ctx, leaseId, period));
    }
    if (lease.termination_hash !== null) {
        keys.push(terminationKey(ctx, leaseId));
    }
    for (const key of keys) {
        await ctx.stub.purgePrivateData(TERMS_COLLECTION, key);
    }
    return saveLease(ctx, { ...lease, private_data_purged_at: clock.iso }, 'LeasePrivateDataPurged');
}
