import { Context } from 'fabric-contract-api';
import {
    alreadyExists, answerWithEvent, canonicalJson, invalidArgument, isAbsent, notFound, parseIntArg, parseObjectArg,
    readId, readInt, readJson, readText, requireRole, txClock, writeJson,
} from '@carbonlease/common';
import { factorKey } from './keys';

export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;
/** g CO2e per kWh; real grids are 0..~1200, the bound only keeps products exact and sane. */
export const MAX_FACTOR_G_PER_KWH = 100_000;

export interface FactorVersion {
    version: number;
    factor_g_per_kwh: number;
    supersede_reason: string | null;
    published_by_msp: string;
    published_at: string;
}

export interface Factor extends FactorVersion {
    region: string;
    year: number;
    history: FactorVersion[];
}

/**
 * A published factor is never edited: publishing again for the same region and year supersedes
 * it, requires a reason, and keeps the earlier versions in `history` (reports record which
 * version they used).
 */
export async function publishFactor(ctx: Context, factorJson: string): Promise<string> {
    const input = parseObjectArg(factorJson, 'factor_json', ['region', 'year', 'factor_g_per_kwh'], ['supersede_reason']);
    const region = readId(input.region, 'region');
    const year = readInt(input.year, 'year', MIN_YEAR, MAX_YEAR);
    const factorGPerKwh = readInt(input.factor_g_per_kwh, 'factor_g_per_kwh', 0, MAX_FACTOR_G_PER_KWH);
    const reason = isAbsent(input, 'supersede_reason') ? null : readText(input.supersede_reason, 'supersede_reason', 1, 1000, 'multi');
    const caller = await requireRole(ctx, 'regulator');

    const key = factorKey(ctx, region, year);
    const current = await readJson<Factor>(ctx, key);
    if (current === null && reason !== null) {
        throw invalidArgument('supersede_reason', `there is no factor for ${region} ${year} to supersede`);
    }
    if (current !== null && reason === null) {
        throw alreadyExists(`factor for ${region} ${year} is already published (version ${current.version}); ` +
            'supersede it by giving supersede_reason');
    }
    const history: FactorVersion[] = current === null ? [] : [...current.history, {
        version: current.version,
        factor_g_per_kwh: current.factor_g_per_kwh,
        supersede_reason: current.supersede_reason,
        published_by_msp: current.published_by_msp,
        published_at: current.published_at,
    }];
    const factor: Factor = {
        region,
        year,
        factor_g_per_kwh: factorGPerKwh,
        version: current === null ? 1 : current.version + 1,
        supersede_reason: reason,
        published_by_msp: caller.mspId,
        published_at: txClock(ctx).iso,
        history,
    };
    await writeJson(ctx, key, factor);
    return answerWithEvent(ctx, 'FactorPublished', factor);
}

export async function readFactor(ctx: Context, region: string, year: number): Promise<Factor> {
    const factor = await readJson<Factor>(ctx, factorKey(ctx, region, year));
    if (factor === null) {
        throw notFound(`no emission factor published for region ${region} year ${year}`);
    }
    return factor;
}

export async function getFactor(ctx: Context, regionArg: string, yearArg: string): Promise<string> {
    const region = readId(regionArg, 'region');
    const year = parseIntArg(yearArg, 'year', MIN_YEAR, MAX_YEAR);
    return canonicalJson(await readFactor(ctx, region, year));
}
