import {
    addMonths, CalendarDate, formatDate, invalidArgument, MAX_EMISSIONS_KG, parseDate, readArray, readEnum, readInt,
    readObject,
} from '@carbonlease/common';

/**
 * The lease terms of DESIGN.md, validated. The bounds keep every schedule value an exact JSON
 * integer (principal <= 10^15 fen and rate <= 200% a year give interest < 2^53).
 */
export const AMORTIZATIONS = ['equal_principal', 'annuity'] as const;
export type Amortization = typeof AMORTIZATIONS[number];

export interface RatchetTier {
    min_performance_bps: number;
    adjustment_bps: number;
}

export interface LeaseTerms {
    principal_fen: number;
    base_rate_bps: number;
    term_periods: number;
    period_months: number;
    amortization: Amortization;
    start_date: string;
    baseline_kg: number;
    annual_reduction_bps: number;
    ratchet: RatchetTier[];
    cap_bps: number;
    floor_bps: number;
    missing_report_bps: number;
}

export const TERM_FIELDS = [
    'principal_fen', 'base_rate_bps', 'term_periods', 'period_months', 'amortization', 'start_date', 'baseline_kg',
    'annual_reduction_bps', 'ratchet', 'cap_bps', 'floor_bps', 'missing_report_bps',
];
export const MAX_PRINCIPAL_FEN = 1_000_000_000_000_000;
export const MAX_RATE_BPS = 10_000;
export const MAX_TERM_PERIODS = 360;
export const MAX_RATCHET_TIERS = 20;
export const MIN_PERFORMANCE_BPS = -1_000_000;

export function parseTerms(value: unknown, field: string): LeaseTerms {
    const input = readObject(value, field, TERM_FIELDS);
    const at = (name: string): string => `${field}.${name}`;
    const periodMonths = readInt(input.period_months, at('period_months'), 1, 12);
    if (![1, 3, 12].includes(periodMonths)) {
        throw invalidArgument(at('period_months'), 'must be 1, 3 or 12');
    }
    const start = parseDate(input.start_date, at('start_date'));
    if (start.day > 28) {
        // Keeps every period boundary start + k months a real date, with no end-of-month rule.
        throw invalidArgument(at('start_date'), 'day of month must be 1..28');
    }
    const ratchet = readArray(input.ratchet, at('ratchet'), 0, MAX_RATCHET_TIERS).map((tier, index) => {
        const tierField = `${at('ratchet')}[${index}]`;
        const object = readObject(tier, tierField, ['min_performance_bps', 'adjustment_bps']);
        return {
            min_performance_bps: readInt(object.min_performance_bps, `${tierField}.min_performance_bps`,
                MIN_PERFORMANCE_BPS, 10_000),
            adjustment_bps: readInt(object.adjustment_bps, `${tierField}.adjustment_bps`, -MAX_RATE_BPS, MAX_RATE_BPS),
        };
    });
    if (new Set(ratchet.map((tier) => tier.min_performance_bps)).size !== ratchet.length) {
        throw invalidArgument(at('ratchet'), 'min_performance_bps values must be distinct');
    }
    const terms: LeaseTerms = {
        principal_fen: readInt(input.principal_fen, at('principal_fen'), 1, MAX_PRINCIPAL_FEN),
        base_rate_bps: readInt(input.base_rate_bps, at('base_rate_bps'), 0, MAX_RATE_BPS),
        term_periods: readInt(input.term_periods, at('term_periods'), 1, MAX_TERM_PERIODS),
        period_months: periodMonths,
        amortization: readEnum(input.amortization, at('amortization'), AMORTIZATIONS),
        start_date: formatDate(start),
        baseline_kg: readInt(input.baseline_kg, at('baseline_kg'), 0, MAX_EMISSIONS_KG),
        annual_reduction_bps: readInt(input.annual_reduction_bps, at('annual_reduction_bps'), 0, 10_000),
        // Stored in descending min_performance_bps, the order in which tiers are tried.
        ratchet: ratchet.sort((a, b) => b.min_performance_bps - a.min_performance_bps),
        cap_bps: readInt(input.cap_bps, at('cap_bps'), 0, MAX_RATE_BPS),
        floor_bps: readInt(input.floor_bps, at('floor_bps'), -MAX_RATE_BPS, 0),
        missing_report_bps: readInt(input.missing_report_bps, at('missing_report_bps'), -MAX_RATE_BPS, MAX_RATE_BPS),
    };
    return terms;
}

export interface PeriodRange {
    start: string;
    end: string; // exclusive
}

/** Period p covers [start + (p-1)*period_months months, start + p*period_months months). */
export function periodRange(terms: LeaseTerms, period: number): PeriodRange {
    const start: CalendarDate = parseDate(terms.start_date, 'start_date');
    return {
        start: formatDate(addMonths(start, (period - 1) * terms.period_months)),
        end: formatDate(addMonths(start, period * terms.period_months)),
    };
}
