import { invalidArgument } from './errors';

/**
 * Calendar dates are `YYYY-MM-DD` strings: they sort lexicographically in time order, which the
 * composite-key indexes and range checks rely on. All arithmetic is on integers, never on the
 * host clock.
 */
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface CalendarDate {
    year: number;
    month: number; // 1..12
    day: number;
}

function daysInMonth(year: number, month: number): number {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

export function parseDate(value: unknown, field: string): CalendarDate {
    const match = typeof value === 'string' ? DATE_PATTERN.exec(value) : null;
    if (!match) {
        throw invalidArgument(field, 'must be a date YYYY-MM-DD');
    }
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
        throw invalidArgument(field, `${value} is not a calendar date (years 1900..9999)`);
    }
    return { year, month, day };
}

export function formatDate(date: CalendarDate): string {
    const pad = (n: number, width: number): string => String(n).padStart(width, '0');
    return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** Adds whole months; callers keep day <= 28 so the result is always a real date. */
export function addMonths(date: CalendarDate, months: number): CalendarDate {
    const index = date.year * 12 + (date.month - 1) + months;
    return { year: Math.floor(index / 12), month: (index % 12) + 1, day: date.day };
}

/** The day before a date (for "last day of a half-open range"). */
export function previousDay(date: CalendarDate): CalendarDate {
    if (date.day > 1) {
        return { ...date, day: date.day - 1 };
    }
    const month = date.month === 1 ? 12 : date.month - 1;
    const year = date.month === 1 ? date.year - 1 : date.year;
    return { year, month, day: daysInMonth(year, month) };
}
