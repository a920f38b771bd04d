/**
 * Golden files: what the chaincode really answers and emits, for the Python tests to load
 * instead of hand-written samples that drift from it. A story test records every transaction
 * (arguments, caller, time, answer, and the event name with its payload bytes exactly as given
 * to setEvent), then compares the whole record with the committed `golden/chaincode/<name>.json`.
 * A difference fails with a clear message; `UPDATE_GOLDEN=1 npm test` rewrites the file, to be
 * reviewed and committed with the chaincode change that caused it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { Caller, TxResult } from './harness';

// This file runs as chaincode/common/dist/test/golden.js.
const REPO = resolve(__dirname, '..', '..', '..', '..');
export const GOLDEN_DIR = join(REPO, 'golden', 'chaincode');

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

interface RecordedEvent {
    name: string;
    // The payload bytes as UTF-8 text when they are well-formed UTF-8 (always, for canonical
    // JSON), else base64 so that the bytes survive exactly.
    payload?: string;
    payload_base64?: string;
}

interface RecordedTransaction {
    step: string;
    transaction: string;
    arguments: string[];
    // Transient data (name -> text) when the transaction had any: endorsers see it, no block
    // holds it.
    transient?: Record<string, string>;
    msp: string;
    time: string;
    answer: unknown;
    event: RecordedEvent | null;
}

function recordedEvent(event: TxResult['event']): RecordedEvent | null {
    if (event === null) return null;
    try {
        return { name: event.name, payload: strictUtf8.decode(event.bytes) };
    } catch {
        return { name: event.name, payload_base64: Buffer.from(event.bytes).toString('base64') };
    }
}

export class GoldenStory {
    private readonly transactions: RecordedTransaction[] = [];

    constructor(private readonly chaincode: string) {}

    /** Records one successful transaction of the story (a failure fails the test). */
    record(step: string, fcn: string, args: string[], caller: Caller, time: Date, result: TxResult,
        transient: Record<string, string> = {}): void {
        assert.equal(result.ok, true, `${step}: ${fcn} failed: ${result.error}`);
        this.transactions.push({
            step, transaction: fcn, arguments: args,
            ...(Object.keys(transient).length > 0 ? { transient } : {}),
            msp: caller.msp, time: time.toISOString(),
            answer: result.payload === '' ? null : JSON.parse(result.payload), event: recordedEvent(result.event),
        });
    }

    /** Compares the story with its golden file, or rewrites the file under UPDATE_GOLDEN=1. */
    check(): void {
        const path = join(GOLDEN_DIR, `${this.chaincode}.json`);
        const text = `${JSON.stringify({
            chaincode: this.chaincode,
            written_by: `chaincode/${this.chaincode}/test/golden.test.ts (UPDATE_GOLDEN=1 npm test rewrites it)`,
            transactions: this.transactions,
        }, null, 2)}\n`;
        if (process.env.UPDATE_GOLDEN === '1') {
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, text);
            return;
        }
        const shown = relative(REPO, path);
        assert.ok(existsSync(path), `${shown} is missing: run UPDATE_GOLDEN=1 npm test in chaincode/ and commit it`);
        const committed = JSON.parse(readFileSync(path, 'utf8')) as { transactions: RecordedTransaction[] };
        const now = this.transactions;
        const first = now.findIndex((tx, i) => JSON.stringify(tx) !== JSON.stringify(committed.transactions[i]));
        const at = first === -1 && committed.transactions.length !== now.length ? now.length : first;
        assert.ok(at === -1,
            `${shown} differs from what the ${this.chaincode} chaincode writes now, first at transaction ${at + 1} ` +
            `(${now[at]?.step ?? committed.transactions[at]?.step}).\nThe Python tests load this file as the truth ` +
            `about the ledger: if the change is intended, run UPDATE_GOLDEN=1 npm test in chaincode/, review the ` +
            `diff and commit it with the chaincode change.\nnow:       ${JSON.stringify(now[at])}\n` +
            `committed: ${JSON.stringify(committed.transactions[at])}`);
        assert.equal(readFileSync(path, 'utf8'), text, `${shown} is not formatted as the test writes it: run UPDATE_GOLDEN=1 npm test`);
    }
}
