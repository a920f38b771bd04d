import { Context } from 'fabric-contract-api';
import { CalendarDate } from './dates';
import { invalidArgument } from './errors';
import { canonicalJson, fromBytes, Json, toBytes } from './json';
import { parseIntArg } from './validate';

/** Ledger helpers shared by both chaincodes. The transaction timestamp is the only clock. */

export interface TxClock {
    iso: string; // ISO-8601 UTC, stored in *_at fields
    date: CalendarDate; // UTC calendar date, used for "has period p ended" checks
}

export function txClock(ctx: Context): TxClock {
    const when = ctx.stub.getDateTimestamp();
    return {
        iso: when.toISOString(),
        date: { year: when.getUTCFullYear(), month: when.getUTCMonth() + 1, day: when.getUTCDate() },
    };
}

export async function readJson<T>(ctx: Context, key: string): Promise<T | null> {
    const bytes = await ctx.stub.getState(key);
    return bytes && bytes.length > 0 ? fromBytes<T>(bytes) : null;
}

export async function writeJson(ctx: Context, key: string, value: Json): Promise<void> {
    await ctx.stub.putState(key, toBytes(value));
}

/**
 * The end of every write: Fabric keeps one event per transaction, and ours carries exactly the
 * canonical JSON the transaction answers, so an event listener sees what the submitter saw.
 */
export function answerWithEvent(ctx: Context, eventName: string, result: Json): string {
    const answer = canonicalJson(result);
    ctx.stub.setEvent(eventName, Buffer.from(answer, 'utf8'));
    return answer;
}

export interface HistoryEntry {
    tx_id: string;
    timestamp: string;
    is_delete: boolean;
    value: Json;
}

/** The key's history, oldest first, with values parsed back to JSON. */
export async function keyHistory(ctx: Context, key: string): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    for await (const modification of ctx.stub.getHistoryForKey(key)) {
        const seconds = Number(modification.timestamp.seconds);
        const millis = seconds * 1000 + Math.floor(modification.timestamp.nanos / 1e6);
        entries.push({
            tx_id: modification.txId,
            timestamp: new Date(millis).toISOString(),
            is_delete: modification.isDelete,
            value: modification.isDelete || modification.value.length === 0 ? null : fromBytes<Json>(modification.value),
        });
    }
    // Fabric returns history newest first; oldest first reads as a story.
    return entries.reverse();
}

export const MAX_PAGE_SIZE = 100;

export function parsePageSize(text: string): number {
    return parseIntArg(text, 'page_size', 1, MAX_PAGE_SIZE);
}

export interface Page {
    records: Json[];
    fetched_count: number;
    bookmark: string;
}

/**
 * One page of the composite keys under (objectType, attributes). For an index whose values are
 * record keys pass `valuesAreKeys`, else the values are the records themselves. Pagination is
 * only allowed in read-only transactions, which is how every List* is used.
 */
export async function pageOf(
    ctx: Context, objectType: string, attributes: string[], pageSize: number, bookmark: string, valuesAreKeys: boolean,
): Promise<Page> {
    // The peer starts a paged scan AT the bookmark and ends it where the partial key's range ends
    // (core/chaincode/handler.go), so a bookmark placed before the range (`\u0000lease\u0000`, or
    // another lessee's index key) would walk through records of other kinds and other owners.
    // Every bookmark the peer hands out for this list starts with the list's own prefix.
    if (bookmark !== '' && !bookmark.startsWith(ctx.stub.createCompositeKey(objectType, attributes))) {
        throw invalidArgument('bookmark', 'does not belong to this list');
    }
    const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(
        objectType, attributes, pageSize, bookmark);
    const values: Uint8Array[] = [];
    try {
        for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
            values.push(result.value.value);
        }
    } finally {
        await iterator.close();
    }
    const records: Json[] = [];
    for (const value of values) {
        const record = valuesAreKeys ? await readJson<Json>(ctx, fromBytes<string>(value)) : fromBytes<Json>(value);
        if (record !== null) {
            records.push(record);
        }
    }
    // The peer sends no metadata at all for an empty page.
    return { records, fetched_count: records.length, bookmark: metadata?.bookmark ?? '' };
}

/** Every record under (objectType, attributes), in key order; for small sets only. */
export async function allOf<T>(ctx: Context, objectType: string, attributes: string[]): Promise<T[]> {
    const records: T[] = [];
    for await (const result of ctx.stub.getStateByPartialCompositeKey(objectType, attributes)) {
        records.push(fromBytes<T>(result.value));
    }
    return records;
}
