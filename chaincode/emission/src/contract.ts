import { Context } from 'fabric-contract-api';
import { CarbonContract, canonicalJson, expectArgs, getRoles, keyHistory, setRoles } from '@carbonlease/common';
import { getFactor, publishFactor } from './factors';
import { ledgerKeyFor } from './keys';
import { getMeterReading, submitMeterReading } from './readings';
import {
    getReport, getVerifiedReportForPeriod, listReportsByLessee, rejectReport, submitReport, verifyReport,
} from './reports';

/**
 * The emission chaincode: one method per transaction, each checking its argument count and
 * delegating. Arguments arrive as raw strings (see CarbonContract).
 */
export class EmissionContract extends CarbonContract {
    constructor() {
        super('emission');
    }

    async SetRoles(ctx: Context, ...args: string[]): Promise<string> {
        const [rolesJson] = expectArgs(args, ['roles_json']);
        return setRoles(ctx, rolesJson);
    }

    async GetRoles(ctx: Context, ...args: string[]): Promise<string> {
        expectArgs(args, []);
        return getRoles(ctx);
    }

    async PublishFactor(ctx: Context, ...args: string[]): Promise<string> {
        const [factorJson] = expectArgs(args, ['factor_json']);
        return publishFactor(ctx, factorJson);
    }

    async GetFactor(ctx: Context, ...args: string[]): Promise<string> {
        const [region, year] = expectArgs(args, ['region', 'year']);
        return getFactor(ctx, region, year);
    }

    async SubmitMeterReading(ctx: Context, ...args: string[]): Promise<string> {
        const [readingJson] = expectArgs(args, ['reading_json']);
        return submitMeterReading(ctx, readingJson);
    }

    async GetMeterReading(ctx: Context, ...args: string[]): Promise<string> {
        const [readingId] = expectArgs(args, ['reading_id']);
        return getMeterReading(ctx, readingId);
    }

    async SubmitReport(ctx: Context, ...args: string[]): Promise<string> {
        const [reportJson] = expectArgs(args, ['report_json']);
        return submitReport(ctx, reportJson);
    }

    async VerifyReport(ctx: Context, ...args: string[]): Promise<string> {
        const [reportId] = expectArgs(args, ['report_id']);
        return verifyReport(ctx, reportId);
    }

    async RejectReport(ctx: Context, ...args: string[]): Promise<string> {
        const [reportId, reason] = expectArgs(args, ['report_id', 'reason']);
        return rejectReport(ctx, reportId, reason);
    }

    async GetReport(ctx: Context, ...args: string[]): Promise<string> {
        const [reportId] = expectArgs(args, ['report_id']);
        return getReport(ctx, reportId);
    }

    async ListReportsByLessee(ctx: Context, ...args: string[]): Promise<string> {
        const [lesseeId, pageSize, bookmark] = expectArgs(args, ['lessee_id', 'page_size', 'bookmark']);
        return listReportsByLessee(ctx, lesseeId, pageSize, bookmark);
    }

    async GetVerifiedReportForPeriod(ctx: Context, ...args: string[]): Promise<string> {
        const [lesseeId, periodStart, periodEnd] = expectArgs(args, ['lessee_id', 'period_start', 'period_end']);
        return getVerifiedReportForPeriod(ctx, lesseeId, periodStart, periodEnd);
    }

    async GetHistory(ctx: Context, ...args: string[]): Promise<string> {
        const [key] = expectArgs(args, ['key']);
        return canonicalJson(await keyHistory(ctx, ledgerKeyFor(ctx, key)));
    }
}
