import { invalidArgument } from './errors';
import { parseJsonArg } from './jsonarg';

/**
 * Argument validation. Every reader names the field in its error so a caller can fix the request;
 * nothing here touches the ledger, so transactions validate everything before their first write.
 */

// Ids end up inside composite keys and "<kind>:<id>" history keys, so ':' and control
// characters (U+0000 is the composite-key separator) are excluded.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MSP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const DECIMAL_INTEGER_PATTERN = /^-?(0|[1-9][0-9]*)$/;

export type JsonObject = Record<string, unknown>;

/** Transactions take positional string arguments; a wrong count is refused, never ignored. */
export function expectArgs(args: string[], names: string[]): string[] {
    if (args.length !== names.length) {
        const expected = names.length === 0 ? 'no arguments' : `${names.length} argument(s) (${names.join(', ')})`;
        throw invalidArgument('arguments', `expected ${expected}, got ${args.length}`);
    }
    return args;
}

/** A JSON object with exactly the given required keys, plus optional ones; nothing else. */
export function readObject(value: unknown, field: string, required: string[], optional: string[] = []): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw invalidArgument(field, 'must be a JSON object');
    }
    const object = value as JsonObject;
    const unknown = Object.keys(object).filter((key) => !required.includes(key) && !optional.includes(key));
    if (unknown.length > 0) {
        throw invalidArgument(field, `unknown field(s): ${unknown.sort().map((key) => JSON.stringify(key)).join(', ')}`);
    }
    const missing = required.filter((key) => !(key in object));
    if (missing.length > 0) {
        throw invalidArgument(field, `missing field(s): ${missing.join(', ')}`);
    }
    return object;
}

export function parseObjectArg(text: string, field: string, required: string[], optional: string[] = []): JsonObject {
    return readObject(parseJsonArg(text, field), field, required, optional);
}

export function readId(value: unknown, field: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
        throw invalidArgument(field, 'must be 1-64 characters [A-Za-z0-9_.-], starting with a letter or digit');
    }
    return value;
}

export function readMspId(value: unknown, field: string): string {
    if (typeof value !== 'string' || !MSP_ID_PATTERN.test(value)) {
        throw invalidArgument(field, 'must be an MSP id of 1-128 characters [A-Za-z0-9_.-]');
    }
    return value;
}

/** A JSON integer within [min, max]; floats, strings and unsafe integers are refused. */
export function readInt(value: unknown, field: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw invalidArgument(field, 'must be a JSON integer');
    }
    if (value < min || value > max) {
        throw invalidArgument(field, `must be between ${min} and ${max}, got ${value}`);
    }
    return value;
}

/** A non-JSON positional argument holding a decimal integer, e.g. a year or a page size. */
export function parseIntArg(text: string, field: string, min: number, max: number): number {
    if (!DECIMAL_INTEGER_PATTERN.test(text) || !Number.isSafeInteger(Number(text))) {
        throw invalidArgument(field, 'must be a decimal integer');
    }
    return readInt(Number(text), field, min, max);
}

export function readEnum<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
        throw invalidArgument(field, `must be one of ${allowed.join(', ')}`);
    }
    return value as T;
}

export function readSha256(value: unknown, field: string): string {
    if (typeof value !== 'string' || !SHA256_PATTERN.test(value)) {
        throw invalidArgument(field, 'must be a sha256 digest: 64 lowercase hex characters');
    }
    return value;
}

export function readArray(value: unknown, field: string, minLength: number, maxLength: number): unknown[] {
    if (!Array.isArray(value)) {
        throw invalidArgument(field, 'must be a JSON list');
    }
    if (value.length < minLength || value.length > maxLength) {
        throw invalidArgument(field, `must have ${minLength}..${maxLength} entries, got ${value.length}`);
    }
    return value;
}

/** Absent and null both mean "not given" for optional fields. */
export function isAbsent(object: JsonObject, key: string): boolean {
    return object[key] === undefined || object[key] === null;
}

/**
 * Emissions in kg are bounded so that every derived value (performance in bps, sums) stays an
 * exact JSON integer: 10^11 kg = 100 Mt CO2e per period, above any single lessee.
 */
export const MAX_EMISSIONS_KG = 100_000_000_000;
