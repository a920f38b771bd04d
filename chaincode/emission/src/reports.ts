import { Context } from 'fabric-contract-api';
import {
    alreadyExists, answerWithEvent, canonicalJson, formatDate, invalidArgument, invalidState, isAbsent, MAX_EMISSIONS_KG,
    notFound, pageOf, parseDate, parseObjectArg, parsePageSize, readArray, readId, readInt, readJson,
    readSha256, readText, requireRole, roundHalfAwayFromZero, toSafeNumber, txClock, writeJson,
} from '@carbonlease/common';
import { readFactor } from './factors';
import {
    REPORT_BY_LESSEE, reportByLesseeKey, reportByPeriodKey, reportKey, verifiedReportKey,
} from './keys';
import { factorYearOf, readReading } from './readings';

export const MAX_READINGS_PER_REPORT = 500;

export type ReportStatus = 'submitted' | 'verified' | 'rejected' | 'superseded';

export interface Scope2Line {
    reading_id: string;
    region: string;
    year: number;
    kwh: number;
    factor_g_per_kwh: number;
    factor_version: number;
}

export interface Report {
    report_id: string;
    lessee_id: string;
    period_start: string;
    period_end: string;
    scope1_kg: number;
    scope2_kg: number;
    total_kg: number;
    meter_reading_ids: string[];
    scope2_lines: Scope2Line[];
    evidence_sha256: string;
    version: number;
    supersedes: string | null;
    superseded_by: string | null;
    status: ReportStatus;
    submitted_by_msp: string;
    submitted_at: string;
    verified_by_msp: string | null;
    verified_at: string | null;
    rejected_by_msp: string | null;
    rejected_at: string | null;
    rejection_reason: string | null;
}

/**
 * scope 2 (kg) = round(sum over readings of kWh x factor(g/kWh) / 1000): the sum is exact in g
 * and rounded once (half away from zero), so splitting a period into more readings never shifts
 * the result by accumulated rounding.
 */
export function scope2Kg(lines: Scope2Line[]): bigint {
    const grams = lines.reduce((sum, line) => sum + BigInt(line.kwh) * BigInt(line.factor_g_per_kwh), 0n);
    return roundHalfAwayFromZero(grams, 1000n);
}

async function readReport(ctx: Context, reportId: string): Promise<Report> {
    const report = await readJson<Report>(ctx, reportKey(ctx, reportId));
    if (report === null) {
        throw notFound(`emission report ${reportId} does not exist`);
    }
    return report;
}

/** A correction must replace the latest version of the same lessee and period, not yet verified. */
function checkCorrectable(previous: Report, lesseeId: string, start: string, end: string): void {
    if (previous.lessee_id !== lesseeId || previous.period_start !== start || previous.period_end !== end) {
        throw invalidArgument('supersedes', `report ${previous.report_id} is for lessee ${previous.lessee_id} ` +
            `[${previous.period_start}, ${previous.period_end}); a correction keeps lessee and period`);
    }
    if (previous.status === 'verified') {
        throw invalidState(`report ${previous.report_id} is verified and immutable`);
    }
    if (previous.status === 'superseded') {
        throw invalidState(`report ${previous.report_id} is already superseded by ${previous.superseded_by}`);
    }
}

export async function submitReport(ctx: Context, reportJson: string): Promise<string> {
    const input = parseObjectArg(reportJson, 'report_json',
        ['report_id', 'lessee_id', 'period_start', 'period_end', 'scope1_kg', 'meter_reading_ids', 'evidence_sha256'],
        ['supersedes']);
    const reportId = readId(input.report_id, 'report_id');
    const lesseeId = readId(input.lessee_id, 'lessee_id');
    const start = formatDate(parseDate(input.period_start, 'period_start'));
    const end = formatDate(parseDate(input.period_end, 'period_end'));
    if (start >= end) {
        throw invalidArgument('period_end', 'must be after period_start (the range is [period_start, period_end))');
    }
    const scope1Kg = readInt(input.scope1_kg, 'scope1_kg', 0, MAX_EMISSIONS_KG);
    const readingIds = readArray(input.meter_reading_ids, 'meter_reading_ids', 0, MAX_READINGS_PER_REPORT)
        .map((id, index) => readId(id, `meter_reading_ids[${index}]`));
    if (new Set(readingIds).size !== readingIds.length) {
        throw invalidArgument('meter_reading_ids', 'lists a reading more than once');
    }
    readingIds.sort(); // a set of readings: stored in canonical order
    const evidence = readSha256(input.evidence_sha256, 'evidence_sha256');
    const supersedes = isAbsent(input, 'supersedes') ? null : readId(input.supersedes, 'supersedes');
    const caller = await requireRole(ctx, 'lessor');

    if (await readJson<Report>(ctx, reportKey(ctx, reportId)) !== null) {
        throw alreadyExists(`emission report ${reportId} already exists`);
    }
    const latestId = await readJson<string>(ctx, reportByPeriodKey(ctx, lesseeId, start, end));
    let previous: Report | null = null;
    if (supersedes === null) {
        if (latestId !== null) {
            throw alreadyExists(`report ${latestId} already covers lessee ${lesseeId} [${start}, ${end}); ` +
                'submit a correction with supersedes');
        }
    } else {
        previous = await readReport(ctx, supersedes);
        checkCorrectable(previous, lesseeId, start, end);
    }

    const lines: Scope2Line[] = [];
    for (const readingId of readingIds) {
        const reading = await readReading(ctx, readingId);
        if (reading.lessee_id !== lesseeId) {
            throw invalidArgument('meter_reading_ids', `reading ${readingId} belongs to lessee ${reading.lessee_id}`);
        }
        if (reading.period_start < start || reading.period_end > end) {
            throw invalidArgument('meter_reading_ids', `reading ${readingId} [${reading.period_start}, ` +
                `${reading.period_end}) is not inside the report period [${start}, ${end})`);
        }
        const year = factorYearOf(reading);
        const factor = await readFactor(ctx, reading.region, year);
        lines.push({
            reading_id: readingId,
            region: reading.region,
            year,
            kwh: reading.kwh,
            factor_g_per_kwh: factor.factor_g_per_kwh,
            factor_version: factor.version,
        });
    }
    const scope2 = scope2Kg(lines);
    const total = BigInt(scope1Kg) + scope2;
    if (total > BigInt(MAX_EMISSIONS_KG)) {
        throw invalidArgument('report_json', `total_kg ${total} exceeds ${MAX_EMISSIONS_KG}`);
    }

    const now = txClock(ctx).iso;
    const report: Report = {
        report_id: reportId,
        lessee_id: lesseeId,
        period_start: start,
        period_end: end,
        scope1_kg: scope1Kg,
        scope2_kg: toSafeNumber(scope2, 'scope2_kg'),
        total_kg: toSafeNumber(total, 'total_kg'),
        meter_reading_ids: readingIds,
        scope2_lines: lines,
        evidence_sha256: evidence,
        version: previous === null ? 1 : previous.version + 1,
        supersedes,
        superseded_by: null,
        status: 'submitted',
        submitted_by_msp: caller.mspId,
        submitted_at: now,
        verified_by_msp: null,
        verified_at: null,
        rejected_by_msp: null,
        rejected_at: null,
        rejection_reason: null,
    };
    await writeJson(ctx, reportKey(ctx, reportId), report);
    if (previous !== null) {
        await writeJson(ctx, reportKey(ctx, previous.report_id), { ...previous, status: 'superseded', superseded_by: reportId });
    }
    await writeJson(ctx, reportByLesseeKey(ctx, lesseeId, reportId), reportKey(ctx, reportId));
    await writeJson(ctx, reportByPeriodKey(ctx, lesseeId, start, end), reportId);
    return answerWithEvent(ctx, 'ReportSubmitted', report);
}

async function readSubmittedReport(ctx: Context, reportIdArg: string): Promise<Report> {
    const report = await readReport(ctx, readId(reportIdArg, 'report_id'));
    if (report.status !== 'submitted') {
        throw invalidState(`report ${report.report_id} is ${report.status}; only a submitted report can be decided`);
    }
    return report;
}

export async function verifyReport(ctx: Context, reportIdArg: string): Promise<string> {
    readId(reportIdArg, 'report_id');
    const caller = await requireRole(ctx, 'regulator');
    const report = await readSubmittedReport(ctx, reportIdArg);
    // Only one version per lessee+period can be submitted at a time (corrections supersede), so
    // this index can never hold a second report; the check guards the invariant anyway.
    const verifiedKey = verifiedReportKey(ctx, report.lessee_id, report.period_start, report.period_end);
    if (await readJson<string>(ctx, verifiedKey) !== null) {
        throw invalidState(`lessee ${report.lessee_id} already has a verified report for that period`);
    }
    const verified: Report = { ...report, status: 'verified', verified_by_msp: caller.mspId, verified_at: txClock(ctx).iso };
    await writeJson(ctx, reportKey(ctx, report.report_id), verified);
    await writeJson(ctx, verifiedKey, reportKey(ctx, report.report_id));
    return answerWithEvent(ctx, 'ReportVerified', verified);
}

export async function rejectReport(ctx: Context, reportIdArg: string, reasonArg: string): Promise<string> {
    readId(reportIdArg, 'report_id');
    const reason = readText(reasonArg, 'reason', 1, 1000, 'multi');
    const caller = await requireRole(ctx, 'regulator');
    const report = await readSubmittedReport(ctx, reportIdArg);
    const rejected: Report = {
        ...report, status: 'rejected', rejected_by_msp: caller.mspId, rejected_at: txClock(ctx).iso, rejection_reason: reason,
    };
    await writeJson(ctx, reportKey(ctx, report.report_id), rejected);
    return answerWithEvent(ctx, 'ReportRejected', rejected);
}

export async function getReport(ctx: Context, reportIdArg: string): Promise<string> {
    return canonicalJson(await readReport(ctx, readId(reportIdArg, 'report_id')));
}

export async function listReportsByLessee(
    ctx: Context, lesseeIdArg: string, pageSizeArg: string, bookmark: string): Promise<string> {
    const lesseeId = readId(lesseeIdArg, 'lessee_id');
    const pageSize = parsePageSize(pageSizeArg);
    return canonicalJson(await pageOf(ctx, REPORT_BY_LESSEE, [lesseeId], pageSize, bookmark, true));
}

/** Read by the lease chaincode: the verified report for exactly [start, end), or null. */
export async function getVerifiedReportForPeriod(
    ctx: Context, lesseeIdArg: string, startArg: string, endArg: string): Promise<string> {
    const lesseeId = readId(lesseeIdArg, 'lessee_id');
    const start = formatDate(parseDate(startArg, 'period_start'));
    const end = formatDate(parseDate(endArg, 'period_end'));
    const key = await readJson<string>(ctx, verifiedReportKey(ctx, lesseeId, start, end));
    return canonicalJson(key === null ? null : await readJson<Report>(ctx, key));
}
