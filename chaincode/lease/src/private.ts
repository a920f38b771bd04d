import { Context } from 'fabric-contract-api';
import { callerOf, invalidState, readPrivateJson, readRoles, writePrivateJson } from '@carbonlease/common';
import { adjustmentKey, paymentKey, TERMS_COLLECTION, terminationKey, termsKey } from './keys';
import { RateAdjustment } from './schedule';
import { LeaseTerms } from './terms';

/**
 * The private half of a lease, kept in the leaseTerms collection (LessorMSP + RegulatorMSP).
 * Every record carries the lease's salt, so the SHA-256 of a record (kept in public state as its
 * hash, and by Fabric in every block) cannot be found by trying likely values.
 */
export interface PrivateTerms {
    lease_id: string;
    lessee_id: string;
    lessee_name: string;
    terms: LeaseTerms;
    salt: string;
}

/** A fixed rate with every input needed to recompute it. */
export interface Adjustment extends RateAdjustment {
    lease_id: string;
    period: number;
    based_on_period: number;
    period_start: string;
    period_end: string;
    report_id: string | null;
    verified_kg: number | null;
    fixed_at: string;
    salt: string;
}

export interface Payment {
    lease_id: string;
    period: number;
    amount_fen: number;
    paid_on: string;
    due_date: string;
    recorded_at: string;
    salt: string;
}

export interface Termination {
    lease_id: string;
    reason: string;
    salt: string;
}

/** What a member reads: every private record of the lease, exactly as stored (hash inputs). */
export interface PrivateView {
    terms: PrivateTerms;
    adjustments: Adjustment[];
    payments: Payment[];
    termination: Termination | null;
}

export const writePrivate = (ctx: Context, key: string, record: PrivateTerms | Adjustment | Payment | Termination): Promise<string> =>
    writePrivateJson(ctx, TERMS_COLLECTION, key, record);

export async function readTerms(ctx: Context, leaseId: string): Promise<PrivateTerms | null> {
    return readPrivateJson<PrivateTerms>(ctx, TERMS_COLLECTION, termsKey(ctx, leaseId));
}

/** The terms a write needs; a peer without them (not a member, or purged) cannot endorse it. */
export async function requireTerms(ctx: Context, leaseId: string): Promise<PrivateTerms> {
    const terms = await readTerms(ctx, leaseId);
    if (terms === null) {
        throw invalidState(`the private terms of lease ${leaseId} are not on this peer ` +
            `(purged, or the peer's org is not a member of collection ${TERMS_COLLECTION})`);
    }
    return terms;
}

/** The records of periods from..through; the peer must hold each one public state refers to. */
async function readRecords<T>(ctx: Context, what: string, key: (period: number) => string, from: number, through: number):
    Promise<T[]> {
    const records: T[] = [];
    for (let period = from; period <= through; period++) {
        const record = await readPrivateJson<T>(ctx, TERMS_COLLECTION, key(period));
        if (record === null) {
            throw invalidState(`the ${what} of period ${period} is not on this peer (not yet reconciled, or purged)`);
        }
        records.push(record);
    }
    return records;
}

/** Adjustments fix periods 2..fixedThrough (period 1 runs at the base rate). */
export const readAdjustments = (ctx: Context, leaseId: string, fixedThrough: number): Promise<Adjustment[]> =>
    readRecords<Adjustment>(ctx, `rate fix of lease ${leaseId}`, (p) => adjustmentKey(ctx, leaseId, p), 2, fixedThrough);

export const readPayments = (ctx: Context, leaseId: string, paidThrough: number): Promise<Payment[]> =>
    readRecords<Payment>(ctx, `payment of lease ${leaseId}`, (p) => paymentKey(ctx, leaseId, p), 1, paidThrough);

/**
 * Whether the caller's org is meant to read the collection: the lessor and regulator roles are
 * its members. Others get the public view without asking the peer (which would refuse them).
 */
export async function callerReadsTerms(ctx: Context): Promise<boolean> {
    const roles = await readRoles(ctx);
    const mspId = callerOf(ctx).mspId;
    return roles !== null && (roles.lessor.includes(mspId) || roles.regulator.includes(mspId));
}

export interface PublicCounters {
    lease_id: string;
    fixed_through_period: number;
    paid_through_period: number;
    termination_hash: string | null;
}

/** The member's view of a lease's private records, or null for a non-member or a peer without them. */
export async function privateView(ctx: Context, lease: PublicCounters): Promise<PrivateView | null> {
    if (!await callerReadsTerms(ctx)) {
        return null;
    }
    const terms = await readTerms(ctx, lease.lease_id);
    if (terms === null) {
        return null;
    }
    return {
        terms,
        adjustments: await readAdjustments(ctx, lease.lease_id, lease.fixed_through_period),
        payments: await readPayments(ctx, lease.lease_id, lease.paid_through_period),
        termination: lease.termination_hash === null
            ? null
            : await readPrivateJson<Termination>(ctx, TERMS_COLLECTION, terminationKey(ctx, lease.lease_id)),
    };
}
