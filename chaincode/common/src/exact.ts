import { invalidArgument } from './errors';

/**
 * Rounds the exact rational num/den to the nearest integer, halves away from zero
 * (Python's ROUND_HALF_UP on an exact value). BigInt division truncates toward zero, so the
 * rounding is done on magnitudes and the sign restored afterwards.
 */
export function roundHalfAwayFromZero(num: bigint, den: bigint): bigint {
    if (den === 0n) {
        throw new RangeError('division by zero');
    }
    const negative = (num < 0n) !== (den < 0n);
    const n = num < 0n ? -num : num;
    const d = den < 0n ? -den : den;
    const magnitude = (2n * n + d) / (2n * d);
    return negative ? -magnitude : magnitude;
}

export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** BigInt -> JSON number, refusing anything a JSON reader could not hold exactly. */
export function toSafeNumber(value: bigint, field: string): number {
    if (value > MAX_SAFE || value < -MAX_SAFE) {
        throw invalidArgument(field, `result ${value} exceeds the largest exact JSON integer (2^53-1)`);
    }
    return Number(value);
}

export const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
