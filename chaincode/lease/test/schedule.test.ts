import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    adjustmentFromPeriod, annuityInstalmentFen, computeSchedule, performanceBps, previewSchedule, targetKg,
} from '../src/schedule';
import { LeaseTerms, parseTerms } from '../src/terms';
import { FLOATING_TERMS } from './fixtures';

/**
 * Expected values below were worked out exactly with Python's fractions.Fraction (an independent
 * implementation of DESIGN.md's steps, rounding = floor(|x| + 1/2) with the sign restored), not by
 * running this code.
 */

const terms = (overrides: Record<string, unknown> = {}): LeaseTerms => parseTerms({ ...FLOATING_TERMS, ...overrides }, 'terms');
type Row = [number, number, number, number, number, number, number];
const rowsOf = (rows: ReturnType<typeof computeSchedule>): Row[] => rows.map((r) =>
    [r.period, r.rate_bps, r.adjustment_bps, r.interest_fen, r.principal_fen, r.instalment_fen, r.outstanding_after_fen]);
const flat = (t: LeaseTerms): number[] => new Array<number>(t.term_periods).fill(0);

describe('floating rate: hand-computed schedules', () => {
    // Emissions 8500, none, 9600 for periods 1-3:
    //  p1: target 10000, perf (10000-8500)*10000/10000 = 1500 -> tier 1000 -> -50: rate(2) = 450
    //  p2: no report -> missing 200 clamped to cap 150: rate(3) = 650
    //  p3: target 10000*(120000-1000*2*3)/120000 = 9500; perf -100*10000/9500 = -105.26 -> -105
    //      -> tier -1000 -> +100: rate(4) = 600
    //  equal principal: interest(2) = 750000*450*3/120000 = 8437.5 -> 8438 (half away from zero)
    const emissions = [8500, null, 9600, 9000];
    const cases: { name: string; amortization: string; rows: Row[] }[] = [
        {
            name: 'equal principal', amortization: 'equal_principal', rows: [
                [1, 500, 0, 12500, 250000, 262500, 750000],
                [2, 450, -50, 8438, 250000, 258438, 500000],
                [3, 650, 150, 8125, 250000, 258125, 250000],
                [4, 600, 100, 3750, 250000, 253750, 0],
            ],
        },
        {
            name: 'annuity, instalment recomputed at each rate change', amortization: 'annuity', rows: [
                [1, 500, 0, 12500, 245361, 257861, 754639],
                [2, 450, -50, 8490, 248737, 257227, 505902],
                [3, 650, 150, 8221, 250912, 259133, 254990],
                [4, 600, 100, 3825, 254990, 258815, 0],
            ],
        },
    ];
    for (const c of cases) {
        it(c.name, () => {
            assert.deepEqual(rowsOf(previewSchedule(terms({ amortization: c.amortization }), emissions)), c.rows);
        });
    }

    it('annuity 12 x 1 month at 6%: instalment 86066 kept, last period takes the remainder', () => {
        // 1e6 * 0.005 / (1 - 1.005^-12) = 86066.40 -> 86066; the last row repays 85642 + 428 interest.
        const t = terms({ base_rate_bps: 600, term_periods: 12, period_months: 1, amortization: 'annuity' });
        const rows = rowsOf(computeSchedule(t, flat(t)));
        assert.deepEqual(rows[0], [1, 600, 0, 5000, 81066, 86066, 918934]);
        assert.deepEqual(rows[1], [2, 600, 0, 4595, 81471, 86066, 837463]);
        assert.deepEqual(rows[11], [12, 600, 0, 428, 85642, 86070, 0]);
    });

    it('120-period annuity on 9,999,999,999,999 fen stays exact', () => {
        const t = terms({ principal_fen: 9_999_999_999_999, base_rate_bps: 435, term_periods: 120, period_months: 1, amortization: 'annuity' });
        const rows = rowsOf(computeSchedule(t, flat(t)));
        assert.deepEqual(rows[0], [1, 435, 0, 36250000000, 66666867044, 102916867044, 9933333132955]);
        assert.deepEqual(rows[1], [2, 435, 0, 36008332607, 66908534437, 102916867044, 9866424598518]);
        assert.deepEqual(rows[119], [120, 435, 0, 371726136, 102545140835, 102916866971, 0]);
        assert.equal(rows.reduce((sum, r) => sum + r[4], 0), 9_999_999_999_999);
    });

    it('120-period equal principal on 9,999,999,999,999 fen: last period repays the remainder', () => {
        const t = terms({ principal_fen: 9_999_999_999_999, base_rate_bps: 435, term_periods: 120, period_months: 1 });
        const rows = rowsOf(computeSchedule(t, flat(t)));
        assert.deepEqual(rows[0], [1, 435, 0, 36250000000, 83333333333, 119583333333, 9916666666666]);
        assert.deepEqual(rows[118], [119, 435, 0, 604166667, 83333333333, 83937500000, 83333333372]);
        assert.deepEqual(rows[119], [120, 435, 0, 302083333, 83333333372, 83635416705, 0]);
    });

    it('largest principal at the highest rates still fits JSON integers', () => {
        const t = terms({ principal_fen: 1e15, base_rate_bps: 10_000, term_periods: 360, period_months: 12,
            amortization: 'annuity', cap_bps: 10_000, missing_report_bps: 10_000 });
        const rows = previewSchedule(t, new Array(360).fill(null));
        assert.equal(rows[359].outstanding_after_fen, 0);
        assert.equal(rows[1].rate_bps, 20_000);
    });
});

describe('floating rate: edge cases', () => {
    it('zero rate: equal principal and annuity split 1000 fen as 333/333/334', () => {
        for (const amortization of ['equal_principal', 'annuity']) {
            const t = terms({ principal_fen: 1000, base_rate_bps: 0, term_periods: 3, amortization });
            assert.deepEqual(rowsOf(computeSchedule(t, flat(t))), [
                [1, 0, 0, 0, 333, 333, 667], [2, 0, 0, 0, 333, 333, 334], [3, 0, 0, 0, 334, 334, 0]]);
        }
    });

    it('more periods than fen: equal principal repays everything in the last period', () => {
        const t = terms({ principal_fen: 3, base_rate_bps: 0, term_periods: 5 });
        assert.deepEqual(computeSchedule(t, flat(t)).map((r) => r.principal_fen), [0, 0, 0, 0, 3]);
    });

    it('annuity rounding never drives the balance below zero (2 fen over 4 periods)', () => {
        // instalment round(2/4) = 1 (half away from zero): periods 1-2 repay it all, 3-4 are zero.
        const t = terms({ principal_fen: 2, base_rate_bps: 0, term_periods: 4, amortization: 'annuity' });
        assert.deepEqual(computeSchedule(t, flat(t)).map((r) => [r.principal_fen, r.outstanding_after_fen]),
            [[1, 1], [1, 0], [0, 0], [0, 0]]);
    });

    it('interest rounds halves away from zero: 1 fen x 50% x 12 months = 0.5 -> 1', () => {
        const t = terms({ principal_fen: 1, base_rate_bps: 5000, term_periods: 1, period_months: 12 });
        assert.deepEqual(rowsOf(computeSchedule(t, [0])), [[1, 5000, 0, 1, 1, 2, 0]]);
    });

    it('annuity instalment formula: exact against the closed form', () => {
        // 120000 fen, 1% per month (1200 bps x 1), 2 periods: 120000*0.01/(1-1.01^-2) = 60901.49 -> 60901
        assert.equal(annuityInstalmentFen(120_000n, 1200n, 1n, 2), 60901n);
        assert.equal(annuityInstalmentFen(7n, 0n, 1n, 2), 4n); // 3.5 -> 4
    });

    const targetCases: { name: string; overrides: Record<string, unknown>; period: number; target: bigint }[] = [
        { name: 'period 1 is the baseline', overrides: {}, period: 1, target: 10_000n },
        { name: '3 quarters in at 10%/yr', overrides: {}, period: 4, target: 9_250n },
        { name: 'half rounds up: 1 kg x 50%', overrides: { baseline_kg: 1, annual_reduction_bps: 5000, period_months: 12 }, period: 2, target: 1n },
        { name: 'never below zero', overrides: { baseline_kg: 1000, annual_reduction_bps: 10_000, period_months: 12 }, period: 3, target: 0n },
        { name: 'zero baseline', overrides: { baseline_kg: 0 }, period: 2, target: 0n },
    ];
    for (const c of targetCases) {
        it(`target_kg: ${c.name}`, () => assert.equal(targetKg(terms(c.overrides), c.period), c.target));
    }

    const performanceCases: { target: bigint; verified: bigint; expected: bigint }[] = [
        { target: 0n, verified: 0n, expected: 10_000n },
        { target: 0n, verified: 5n, expected: -10_000n },
        { target: 20_000n, verified: 20_001n, expected: -1n }, // -0.5 -> -1 (away from zero)
        { target: 20_000n, verified: 19_999n, expected: 1n }, // +0.5 -> +1
        { target: 9_500n, verified: 9_600n, expected: -105n }, // -105.26
        { target: 3n, verified: 1n, expected: 6_667n }, // 6666.67
        { target: 100n, verified: 0n, expected: 10_000n },
        { target: 1n, verified: 100_000_000_000n, expected: -999_999_999_990_000n },
    ];
    for (const c of performanceCases) {
        it(`performance_bps(target ${c.target}, verified ${c.verified}) = ${c.expected}`, () =>
            assert.equal(performanceBps(c.target, c.verified), c.expected));
    }

    const adjustmentCases: { name: string; overrides: Record<string, unknown>; verified: number | null; expected: [number, string, number | null, number] }[] = [
        { name: 'negative half rounds down to tier -1', verified: 20_001,
            overrides: { baseline_kg: 20_000, ratchet: [{ min_performance_bps: 0, adjustment_bps: 0 }, { min_performance_bps: -1, adjustment_bps: 10 }] },
            expected: [10, 'tier', -1, 510] },
        { name: 'positive half reaches tier 1', verified: 19_999,
            overrides: { baseline_kg: 20_000, ratchet: [{ min_performance_bps: 1, adjustment_bps: -10 }, { min_performance_bps: 0, adjustment_bps: 0 }] },
            expected: [-10, 'tier', 1, 490] },
        { name: 'tier above cap is clamped', verified: 20_000, overrides: { ratchet: [{ min_performance_bps: -10_000, adjustment_bps: 500 }] },
            expected: [150, 'tier', -10_000, 650] },
        { name: 'tier below floor is clamped', verified: 0, overrides: { ratchet: [{ min_performance_bps: 0, adjustment_bps: -500 }] },
            expected: [-50, 'tier', 0, 450] },
        { name: 'no tier qualifies: cap', verified: 20_000, overrides: {}, expected: [150, 'no_tier_cap', null, 650] },
        { name: 'empty ratchet: cap', verified: 0, overrides: { ratchet: [] }, expected: [150, 'no_tier_cap', null, 650] },
        { name: 'missing report, clamped to cap', verified: null, overrides: {}, expected: [150, 'missing_report', null, 650] },
        { name: 'missing report discount, clamped to floor', verified: null, overrides: { missing_report_bps: -300 }, expected: [-50, 'missing_report', null, 450] },
        { name: 'rate never below zero', verified: 0, overrides: { base_rate_bps: 20, floor_bps: -50, ratchet: [{ min_performance_bps: 0, adjustment_bps: -50 }] },
            expected: [-50, 'tier', 0, 0] },
        { name: 'zero target and zero emissions: +10000', verified: 0, overrides: { baseline_kg: 0 }, expected: [-50, 'tier', 1000, 450] },
        { name: 'zero target and some emissions: -10000', verified: 1, overrides: { baseline_kg: 0 }, expected: [150, 'no_tier_cap', null, 650] },
    ];
    for (const c of adjustmentCases) {
        it(`adjustment: ${c.name}`, () => {
            const a = adjustmentFromPeriod(terms(c.overrides), 1, c.verified);
            assert.deepEqual([a.adjustment_bps, a.basis, a.tier_min_performance_bps, a.rate_bps], c.expected);
        });
    }

    it('the last period\'s emissions cannot change this lease', () => {
        const t = terms();
        assert.deepEqual(previewSchedule(t, [8500, null, 9600, 0]), previewSchedule(t, [8500, null, 9600, null]));
    });
});
