import { invalidArgument } from './errors';
import { requireWellFormed } from './text';

/**
 * JSON arguments are parsed strictly, because a member may call the chaincode straight through
 * Fabric with any bytes it likes:
 * - duplicate keys are refused (JSON.parse silently keeps the last one, another parser may keep
 *   the first: two readers of the same transaction would disagree on what was asked);
 * - every string, key or value, must be well-formed Unicode (see text.ts);
 * - every number must be a JSON integer, written without fraction or exponent (no floats
 *   anywhere on the ledger, and `1e2` or `1.0` is a float in Python's json);
 * - objects and lists nest at most MAX_JSON_DEPTH deep (our deepest argument, a lease with its
 *   ratchet tiers, nests 3).
 * JSON.parse checks the syntax first; a scan of the accepted text then checks these rules. The
 * scan is iterative, so no nesting can exhaust the stack.
 */
export const MAX_JSON_DEPTH = 16;
const NUMBER = /-?[0-9]+([.eE][-+0-9.eE]*)?/y;

interface Container {
    path: string;
    keys: Set<string> | null; // null for a list
    key: string; // the current key of an object
    index: number; // the current index of a list
    expectingKey: boolean;
}

/** `a.b`, or `a["odd key"]` when the key is not a plain name (JSON.stringify escapes controls). */
function childPath(parent: Container): string {
    if (parent.keys === null) {
        return `${parent.path}[${parent.index}]`;
    }
    return /^[A-Za-z0-9_]+$/.test(parent.key) ? `${parent.path}.${parent.key}` : `${parent.path}[${JSON.stringify(parent.key)}]`;
}

/** The index just past the string token starting at `start` (text already passed JSON.parse). */
function endOfString(text: string, start: number): number {
    let index = start + 1;
    while (text[index] !== '"') {
        index += text[index] === '\\' ? 2 : 1;
    }
    return index + 1;
}

function checkJsonText(text: string, field: string): void {
    const stack: Container[] = [];
    const valuePath = (): string => (stack.length === 0 ? field : childPath(stack[stack.length - 1]));
    let index = 0;
    while (index < text.length) {
        const char = text[index];
        const top = stack[stack.length - 1];
        if (char === '{' || char === '[') {
            if (stack.length === MAX_JSON_DEPTH) {
                throw invalidArgument(field, `nests deeper than ${MAX_JSON_DEPTH} levels`);
            }
            stack.push({ path: valuePath(), keys: char === '{' ? new Set() : null, key: '', index: 0, expectingKey: true });
            index += 1;
        } else if (char === '}' || char === ']') {
            stack.pop();
            index += 1;
        } else if (char === ',') {
            top.index += 1;
            top.expectingKey = true;
            index += 1;
        } else if (char === ':') {
            top.expectingKey = false;
            index += 1;
        } else if (char === '"') {
            const end = endOfString(text, index);
            const value = JSON.parse(text.slice(index, end)) as string;
            if (top !== undefined && top.keys !== null && top.expectingKey) {
                requireWellFormed(value, `${top.path} (a key)`);
                if (top.keys.has(value)) {
                    throw invalidArgument(top.path, `duplicate key ${JSON.stringify(value)}`);
                }
                top.keys.add(value);
                top.key = value;
            } else {
                requireWellFormed(value, valuePath());
            }
            index = end;
        } else if (char === '-' || (char >= '0' && char <= '9')) {
            NUMBER.lastIndex = index;
            const number = NUMBER.exec(text)!;
            if (number[1] !== undefined) {
                throw invalidArgument(valuePath(), 'numbers must be JSON integers, written without fraction or exponent');
            }
            index += number[0].length;
        } else {
            index += 1; // whitespace and the letters of true, false, null
        }
    }
}

/** Parses a JSON argument; every refusal is INVALID_ARGUMENT naming the argument or the field. */
export function parseJsonArg(text: string, field: string): unknown {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        throw invalidArgument(field, 'is not valid JSON');
    }
    checkJsonText(text, field);
    return value;
}
