import { invalidArgument } from './errors';

/**
 * Free text that other members' software will store, index, print and re-encode. One definition
 * for both chaincodes and the gateway (golden/validation.json holds the shared cases):
 *
 * - well-formed Unicode: a JSON argument may spell a lone UTF-16 surrogate (`"\ud800"`) and
 *   JSON.parse keeps it, but no UTF-8 encoder (Python's included) can write it back out, so one
 *   such value would break every reader of the channel;
 * - no control characters: C0 (U+0000..U+001F), DEL (U+007F) and C1 (U+0080..U+009F), nor the
 *   line and paragraph separators U+2028 and U+2029. Single-line fields (names, locations) allow
 *   none of them; multi-line fields (reasons, notes) allow line feed U+000A only, so a line break
 *   has one spelling;
 * - length counts Unicode code points (what Python's len() counts), never UTF-16 units, so an
 *   emoji is one character on both sides of the gateway;
 * - blank means only White_Space code points (Unicode property; after the control characters are
 *   refused this is exactly what Python's str.isspace() holds, unlike JavaScript's trim(), which
 *   also strips U+FEFF).
 */
export type Lines = 'single' | 'multi';

const SINGLE_LINE_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
const MULTI_LINE_FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/u;
const SEPARATORS: Record<string, string> = { '\u2028': 'line separator', '\u2029': 'paragraph separator' };
const BLANK = /^\p{White_Space}*$/u;

export function codePointLength(value: string): number {
    let length = 0;
    for (let index = 0; index < value.length; index += 1) {
        const unit = value.charCodeAt(index);
        // A high surrogate followed by a low one is one code point (only well-formed text gets here).
        if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < value.length) {
            index += 1;
        }
        length += 1;
    }
    return length;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes from a client as text. The shim's own decoding (Buffer.toString()) silently turns bytes
 * that are not UTF-8 into U+FFFD, so the ledger would keep text the caller never sent.
 */
export function decodeUtf8(bytes: Uint8Array, field: string): string {
    try {
        return UTF8.decode(bytes);
    } catch {
        throw invalidArgument(field, 'is not valid UTF-8');
    }
}

const hex = (codePoint: number): string => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** Refuses ill-formed Unicode; every string of every JSON argument goes through this. */
export function requireWellFormed(value: string, field: string): string {
    if (!value.isWellFormed()) {
        throw invalidArgument(field, 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)');
    }
    return value;
}

export function readText(value: unknown, field: string, minLength: number, maxLength: number, lines: Lines = 'single'): string {
    if (typeof value !== 'string') {
        throw invalidArgument(field, 'must be a string');
    }
    requireWellFormed(value, field);
    const control = (lines === 'single' ? SINGLE_LINE_FORBIDDEN : MULTI_LINE_FORBIDDEN).exec(value);
    if (control !== null) {
        throw invalidArgument(field, `must not contain ${SEPARATORS[control[0]] ?? 'control character'} ${hex(control[0].codePointAt(0)!)}` +
            (lines === 'single' ? '' : ' (line feed U+000A is the only one allowed)'));
    }
    const length = codePointLength(value);
    if (length > maxLength) {
        throw invalidArgument(field, `must be at most ${maxLength} characters (Unicode code points), got ${length}`);
    }
    if (minLength > 0 && (length < minLength || BLANK.test(value))) {
        throw invalidArgument(field, `must be a non-blank string of at least ${minLength} character(s)`);
    }
    return value;
}
