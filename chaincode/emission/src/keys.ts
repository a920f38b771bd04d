import { Context } from 'fabric-contract-api';
import { invalidArgument, readId, ROLES_KEY } from '@carbonlease/common';

/** Every ledger key of the emission chaincode, in one place. */
export const factorKey = (ctx: Context, region: string, year: number): string =>
    ctx.stub.createCompositeKey('factor', [region, String(year)]);
export const readingKey = (ctx: Context, readingId: string): string =>
    ctx.stub.createCompositeKey('reading', [readingId]);
export const reportKey = (ctx: Context, reportId: string): string =>
    ctx.stub.createCompositeKey('report', [reportId]);
/** Index for ListReportsByLessee; value = the report's key. */
export const reportByLesseeKey = (ctx: Context, lesseeId: string, reportId: string): string =>
    ctx.stub.createCompositeKey('report_by_lessee', [lesseeId, reportId]);
export const REPORT_BY_LESSEE = 'report_by_lessee';
/** Latest version for an exact lessee + period; value = report id (JSON string). */
export const reportByPeriodKey = (ctx: Context, lesseeId: string, start: string, end: string): string =>
    ctx.stub.createCompositeKey('report_by_period', [lesseeId, start, end]);
/** The verified report for an exact lessee + period; value = the report's key. */
export const verifiedReportKey = (ctx: Context, lesseeId: string, start: string, end: string): string =>
    ctx.stub.createCompositeKey('verified_report', [lesseeId, start, end]);

/**
 * GetHistory takes a readable key ("factor:<region>:<year>", "reading:<id>", "report:<id>",
 * "roles") so callers never have to build composite keys with U+0000 themselves.
 */
export function ledgerKeyFor(ctx: Context, key: string): string {
    const parts = key.split(':');
    if (key === ROLES_KEY) {
        return ROLES_KEY;
    }
    if (parts[0] === 'factor' && parts.length === 3 && /^[0-9]{4}$/.test(parts[2])) {
        return factorKey(ctx, readId(parts[1], 'key'), Number(parts[2]));
    }
    if (parts[0] === 'reading' && parts.length === 2) {
        return readingKey(ctx, readId(parts[1], 'key'));
    }
    if (parts[0] === 'report' && parts.length === 2) {
        return reportKey(ctx, readId(parts[1], 'key'));
    }
    throw invalidArgument('key', 'must be roles, factor:<region>:<year>, reading:<reading_id> or report:<report_id>');
}
