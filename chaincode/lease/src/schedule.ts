/**
 * THE floating-rate formula of DESIGN.md ("The floating-rate mechanism", normative), used both by
 * PreviewSchedule and by the on-ledger schedule, FixNextRate and RecordPayment. Every product and
 * quotient is an exact BigInt rational rounded once, half away from zero; numbers appear only at
 * the boundary (inputs are validated safe integers, outputs go through toSafeNumber).
 */
import { maxBig, minBig, roundHalfAwayFromZero, toSafeNumber } from '@carbonlease/common';
import { LeaseTerms } from './terms';

const BPS = 10_000n;
const MONTHS_PER_YEAR = 12n;
/** 12 months x 10000 bps: an annual rate in bps times period_months, over this, is the period rate. */
const PERIOD_RATE_DENOMINATOR = MONTHS_PER_YEAR * BPS;

export type AdjustmentBasis = 'tier' | 'no_tier_cap' | 'missing_report';

export interface RateAdjustment {
    target_kg: number;
    performance_bps: number | null;
    tier_min_performance_bps: number | null;
    basis: AdjustmentBasis;
    adjustment_bps: number;
    rate_bps: number;
}

export interface ScheduleRow {
    period: number;
    rate_bps: number;
    adjustment_bps: number;
    interest_fen: number;
    principal_fen: number;
    instalment_fen: number;
    outstanding_after_fen: number;
}

/**
 * Steps 1-2: target_kg = baseline x (10000 - annual_reduction x years_elapsed) / 10000, with
 * years_elapsed = (p-1) x period_months / 12, i.e. baseline x (120000 - reduction x (p-1) x
 * months) / 120000, rounded, never below 0.
 */
export function targetKg(terms: LeaseTerms, period: number): bigint {
    const elapsedMonths = BigInt(period - 1) * BigInt(terms.period_months);
    const numerator = BigInt(terms.baseline_kg) * (PERIOD_RATE_DENOMINATOR - BigInt(terms.annual_reduction_bps) * elapsedMonths);
    return maxBig(0n, roundHalfAwayFromZero(numerator, PERIOD_RATE_DENOMINATOR));
}

/** Step 3: positive = better than target; a zero target scores +10000 only for zero emissions. */
export function performanceBps(target: bigint, verifiedKg: bigint): bigint {
    if (target === 0n) {
        return verifiedKg === 0n ? BPS : -BPS;
    }
    return roundHalfAwayFromZero((target - verifiedKg) * BPS, target);
}

const clamp = (terms: LeaseTerms, adjustment: bigint): bigint =>
    minBig(BigInt(terms.cap_bps), maxBig(BigInt(terms.floor_bps), adjustment));

/** Step 5: max(0, base + adjustment). */
export function rateBps(terms: LeaseTerms, adjustmentBps: bigint): bigint {
    return maxBig(0n, BigInt(terms.base_rate_bps) + adjustmentBps);
}

/**
 * Steps 3-5 for the rate of period p+1, from period p's verified emissions (null: no verified
 * report when the rate is fixed).
 */
export function adjustmentFromPeriod(terms: LeaseTerms, period: number, verifiedKg: number | null): RateAdjustment {
    const target = targetKg(terms, period);
    let performance: bigint | null = null;
    let tierMin: number | null = null;
    let basis: AdjustmentBasis;
    let adjustment: bigint;
    if (verifiedKg === null) {
        basis = 'missing_report';
        adjustment = clamp(terms, BigInt(terms.missing_report_bps));
    } else {
        performance = performanceBps(target, BigInt(verifiedKg));
        // terms.ratchet is stored in descending min_performance_bps: the first that fits is the largest.
        const tier = terms.ratchet.find((candidate) => BigInt(candidate.min_performance_bps) <= performance!);
        tierMin = tier ? tier.min_performance_bps : null;
        basis = tier ? 'tier' : 'no_tier_cap';
        adjustment = clamp(terms, tier ? BigInt(tier.adjustment_bps) : BigInt(terms.cap_bps));
    }
    return {
        target_kg: toSafeNumber(target, 'target_kg'),
        performance_bps: performance === null ? null : toSafeNumber(performance, 'performance_bps'),
        tier_min_performance_bps: tierMin,
        basis,
        adjustment_bps: toSafeNumber(adjustment, 'adjustment_bps'),
        rate_bps: toSafeNumber(rateBps(terms, adjustment), 'rate_bps'),
    };
}

/** Step 6: outstanding x rate x months / (12 x 10000), rounded. */
function interestFen(outstanding: bigint, rate: bigint, periodMonths: bigint): bigint {
    return roundHalfAwayFromZero(outstanding * rate * periodMonths, PERIOD_RATE_DENOMINATOR);
}

/**
 * Step 8: outstanding x r / (1 - (1+r)^-n) with r = a/b, a = rate x months, b = 120000, which is
 * exactly outstanding x a x (a+b)^n / (b x ((a+b)^n - b^n)); outstanding / n when r = 0.
 */
export function annuityInstalmentFen(outstanding: bigint, rate: bigint, periodMonths: bigint, periodsLeft: number): bigint {
    const a = rate * periodMonths;
    const b = PERIOD_RATE_DENOMINATOR;
    if (a === 0n) {
        return roundHalfAwayFromZero(outstanding, BigInt(periodsLeft));
    }
    const grown = (a + b) ** BigInt(periodsLeft);
    return roundHalfAwayFromZero(outstanding * a * grown, b * (grown - b ** BigInt(periodsLeft)));
}

/**
 * Steps 5-8: the schedule given the adjustment applied in each period (index p-1; period 1's is
 * 0 by definition). The last period always repays whatever is outstanding. For annuities the
 * instalment is (re)computed in period 1 and whenever the rate changes. If rounding ever made an
 * earlier period's principal exceed what is outstanding (tiny principals only), that period
 * repays the outstanding and later rows are zero, so the balance never goes negative.
 */
export function computeSchedule(terms: LeaseTerms, adjustmentsBps: number[]): ScheduleRow[] {
    const periods = terms.term_periods;
    const months = BigInt(terms.period_months);
    const equalPrincipal = BigInt(terms.principal_fen) / BigInt(periods);
    let outstanding = BigInt(terms.principal_fen);
    let instalment = 0n;
    let previousRate: bigint | null = null;
    const rows: ScheduleRow[] = [];
    for (let period = 1; period <= periods; period++) {
        const adjustment = period === 1 ? 0n : BigInt(adjustmentsBps[period - 1]);
        const rate = rateBps(terms, adjustment);
        const interest = interestFen(outstanding, rate, months);
        let principal: bigint;
        if (period === periods) {
            principal = outstanding;
        } else if (terms.amortization === 'equal_principal') {
            principal = minBig(equalPrincipal, outstanding);
        } else {
            if (previousRate === null || rate !== previousRate) {
                instalment = annuityInstalmentFen(outstanding, rate, months, periods - period + 1);
            }
            principal = minBig(instalment - interest, outstanding);
        }
        outstanding -= principal;
        previousRate = rate;
        rows.push({
            period,
            rate_bps: toSafeNumber(rate, 'rate_bps'),
            adjustment_bps: toSafeNumber(adjustment, 'adjustment_bps'),
            interest_fen: toSafeNumber(interest, 'interest_fen'),
            principal_fen: toSafeNumber(principal, 'principal_fen'),
            instalment_fen: toSafeNumber(principal + interest, 'instalment_fen'),
            outstanding_after_fen: toSafeNumber(outstanding, 'outstanding_after_fen'),
        });
    }
    return rows;
}

/**
 * PreviewSchedule: emissions[p-1] is period p's verified kg (or null); it sets period p+1's
 * rate, so the last entry cannot affect this lease's schedule.
 */
export function previewSchedule(terms: LeaseTerms, emissionsKg: (number | null)[]): ScheduleRow[] {
    const adjustments = [0];
    for (let period = 1; period < terms.term_periods; period++) {
        adjustments.push(adjustmentFromPeriod(terms, period, emissionsKg[period - 1]).adjustment_bps);
    }
    return computeSchedule(terms, adjustments);
}
