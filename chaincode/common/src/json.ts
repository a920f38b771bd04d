import stringifyDeterministic from 'json-stringify-deterministic';
import sortKeysRecursive from 'sort-keys-recursive';

/**
 * A value to be stored or returned as JSON: plain objects, arrays, strings, safe integers,
 * booleans and null (never BigInt or undefined; BigInts go through toSafeNumber first).
 */
export type Json = unknown;

/**
 * sort-keys-recursive applies its comparator to object keys AND to array elements, and by default
 * it would sort every array (schedule rows, histories). This comparator orders strings by UTF-16
 * code units and calls every other pair equal, so (the sort being stable) arrays of objects and
 * numbers keep their order. Arrays of strings do get sorted: every string list we store is a set
 * and is stored sorted already, which the unit tests check.
 */
function codeUnitOrder(left: unknown, right: unknown): number {
    if (typeof left !== 'string' || typeof right !== 'string') {
        return 0;
    }
    return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Every endorsing peer must return and write the same bytes, so all ledger values and results go
 * through one canonical serialisation: keys sorted recursively, no whitespace.
 */
export function canonicalJson(value: Json): string {
    const sorted = typeof value === 'object' && value !== null
        ? sortKeysRecursive(value as object, { compareFunction: codeUnitOrder as (l: string, r: string) => number })
        : value;
    return stringifyDeterministic(sorted);
}

export function toBytes(value: Json): Uint8Array {
    return Buffer.from(canonicalJson(value), 'utf8');
}

/** Reads back a value this chaincode wrote itself (always canonical JSON). */
export function fromBytes<T>(bytes: Uint8Array): T {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}
