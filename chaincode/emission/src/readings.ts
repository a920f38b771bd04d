import { Context } from 'fabric-contract-api';
import {
    alreadyExists, answerWithEvent, canonicalJson, formatDate, invalidArgument, notFound, parseDate, parseObjectArg,
    previousDay, readId, readInt, readJson, requireRole, txClock, writeJson,
} from '@carbonlease/common';
import { readingKey } from './keys';

/** kWh per reading; 10^12 kWh is about the yearly consumption of a large country. */
export const MAX_KWH = 1_000_000_000_000;

export interface MeterReading {
    reading_id: string;
    lessee_id: string;
    facility_id: string;
    region: string;
    period_start: string;
    period_end: string;
    kwh: number;
    submitted_by_msp: string;
    submitted_at: string;
}

/** The calendar year whose factor applies: a reading must not straddle a year boundary. */
export function factorYearOf(reading: Pick<MeterReading, 'period_start'>): number {
    return Number(reading.period_start.slice(0, 4));
}

/**
 * A reading's range is half-open [period_start, period_end) and must lie in one calendar year,
 * because scope 2 uses the factor of the facility's region and year. Readings are immutable;
 * the grid corrects one by submitting a new reading id.
 */
export async function submitMeterReading(ctx: Context, readingJson: string): Promise<string> {
    const input = parseObjectArg(readingJson, 'reading_json',
        ['reading_id', 'lessee_id', 'facility_id', 'region', 'period_start', 'period_end', 'kwh']);
    const readingId = readId(input.reading_id, 'reading_id');
    const lesseeId = readId(input.lessee_id, 'lessee_id');
    const facilityId = readId(input.facility_id, 'facility_id');
    const region = readId(input.region, 'region');
    const start = formatDate(parseDate(input.period_start, 'period_start'));
    const endDate = parseDate(input.period_end, 'period_end');
    const end = formatDate(endDate);
    const kwh = readInt(input.kwh, 'kwh', 0, MAX_KWH);
    if (start >= end) {
        throw invalidArgument('period_end', 'must be after period_start (the range is [period_start, period_end))');
    }
    if (previousDay(endDate).year !== Number(start.slice(0, 4))) {
        throw invalidArgument('period_end', 'a reading must lie within one calendar year (its factor year)');
    }
    const caller = await requireRole(ctx, 'grid');

    const key = readingKey(ctx, readingId);
    if (await readJson<MeterReading>(ctx, key) !== null) {
        throw alreadyExists(`meter reading ${readingId} already exists`);
    }
    const reading: MeterReading = {
        reading_id: readingId,
        lessee_id: lesseeId,
        facility_id: facilityId,
        region,
        period_start: start,
        period_end: end,
        kwh,
        submitted_by_msp: caller.mspId,
        submitted_at: txClock(ctx).iso,
    };
    await writeJson(ctx, key, reading);
    return answerWithEvent(ctx, 'MeterReadingSubmitted', reading);
}

export async function readReading(ctx: Context, readingId: string): Promise<MeterReading> {
    const reading = await readJson<MeterReading>(ctx, readingKey(ctx, readingId));
    if (reading === null) {
        throw notFound(`meter reading ${readingId} does not exist`);
    }
    return reading;
}

export async function getMeterReading(ctx: Context, readingIdArg: string): Promise<string> {
    return canonicalJson(await readReading(ctx, readId(readingIdArg, 'reading_id')));
}
