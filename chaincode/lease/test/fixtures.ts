/** Terms shared by the formula and contract tests (see schedule.test.ts for their schedule). */
export const FLOATING_TERMS = {
    principal_fen: 1_000_000, base_rate_bps: 500, term_periods: 4, period_months: 3, amortization: 'equal_principal',
    start_date: '2025-01-01', baseline_kg: 10_000, annual_reduction_bps: 1000,
    ratchet: [
        { min_performance_bps: 0, adjustment_bps: 0 },
        { min_performance_bps: 1000, adjustment_bps: -50 },
        { min_performance_bps: -1000, adjustment_bps: 100 },
    ],
    cap_bps: 150, floor_bps: -50, missing_report_bps: 200,
};
