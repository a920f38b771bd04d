/**
 * An in-memory stand-in for the peer: a ChaincodeStub with Fabric's visible semantics (reads see
 * committed state only, a failed transaction commits nothing, one event per transaction, history
 * newest first, composite keys with U+0000 separators) and a ClientIdentity built from a real
 * certificate. Every transaction's attempted writes are recorded, committed or not, so tests can
 * assert that a failed call did not even try to write.
 *
 * Private data as the peer does it: collections with member MSPs (memberOnlyRead and
 * memberOnlyWrite, so a non-member caller is refused with the peer's own message), a peer of a
 * non-member org holds no private values (reads answer empty), hashes of private values are on
 * every peer, a purge removes the value and its hash, and transient data is per proposal.
 */
import { createHash } from 'crypto';
import { Context, Contract } from 'fabric-contract-api';
import { ADMIN_CERT, CLIENT_CERT, PEER_CERT } from './certs';

type Bytes = Uint8Array;

/** What a client puts on the wire: a string as its UTF-8, bytes as they are. */
const wire = (value: string | Bytes): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value));

interface HistoryRecord {
    txId: string;
    value: Bytes;
    isDelete: boolean;
    timestamp: { seconds: number; nanos: number };
}

export interface Caller {
    msp: string;
    cert?: string; // defaults to a client certificate
}

export const client = (msp: string): Caller => ({ msp, cert: CLIENT_CERT });
export const admin = (msp: string): Caller => ({ msp, cert: ADMIN_CERT });
export const peer = (msp: string): Caller => ({ msp, cert: PEER_CERT });

export interface TxResult {
    ok: boolean;
    payload: string; // returned string on success
    error: string; // error message on failure
    writes: string[]; // keys the transaction tried to write (put, delete or validation parameter)
    // payload: the bytes decoded as UTF-8, for reading; bytes: exactly what setEvent was given
    event: { name: string; payload: string; bytes: Bytes } | null;
}

type ChaincodeHandler = (args: string[], time: Date) => Promise<{ status: number; message: string; payload: Bytes }>;

function iteratorOver<T>(items: T[]) {
    let index = 0;
    const iterator = {
        next: async () => (index < items.length ? { value: items[index++], done: false } : { value: undefined, done: true }),
        close: async () => undefined,
        [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
}

export class FakeLedger {
    readonly state = new Map<string, Bytes>();
    readonly validationParameters = new Map<string, Bytes>();
    readonly history = new Map<string, HistoryRecord[]>();
    readonly chaincodes = new Map<string, ChaincodeHandler>();
    /** collection -> member MSP ids */
    readonly collections = new Map<string, string[]>();
    /** collection -> key -> value, as held by member peers */
    readonly privateState = new Map<string, Map<string, Bytes>>();
    readonly channel = 'carbonlease';
    /** The MSP of the peer this fake is; a peer outside a collection holds none of its values. */
    peerMsp = 'LessorMSP';
    private txCounter = 0;

    get(key: string): unknown {
        const bytes = this.state.get(key);
        return bytes === undefined ? undefined : JSON.parse(Buffer.from(bytes).toString('utf8'));
    }

    /** The committed private value (parsed), as a member peer holds it. */
    getPrivate(collection: string, key: string): unknown {
        const bytes = this.privateState.get(collection)?.get(key);
        return bytes === undefined ? undefined : JSON.parse(Buffer.from(bytes).toString('utf8'));
    }

    /**
     * Runs one transaction of `contract` as `caller` at `time`, like a peer would. Arguments and
     * transient values travel as bytes (a string is sent as its UTF-8); arguments reach the
     * contract decoded the shim's way, transient values as the bytes sent.
     */
    async invoke(contract: Contract, fcn: string, rawArgs: (string | Bytes)[], caller: Caller, time: Date,
        transient: Record<string, string | Bytes> = {}): Promise<TxResult> {
        const bufferArgs = [fcn, ...rawArgs].map(wire);
        const args = bufferArgs.slice(1).map((bytes) => bytes.toString());
        const txId = `tx${String(++this.txCounter).padStart(6, '0')}`;
        const pending = new Map<string, Bytes | null>();
        const pendingPrivate: [string, string, Bytes | null][] = [];
        const pendingParameters = new Map<string, Bytes>();
        const writes: string[] = [];
        let event: TxResult['event'] = null;
        const ledger = this;
        const seconds = Math.floor(time.getTime() / 1000);
        const transientMap = new Map(Object.entries(transient).map(([name, value]) => [name, wire(value)]));
        // The peer's checks, with its messages (core/chaincode/handler.go).
        const members = (collection: string): string[] => {
            const list = ledger.collections.get(collection);
            if (list === undefined) throw new Error(`collection ${collection} could not be found`);
            return list;
        };
        const access = (collection: string, kind: 'read' | 'write'): void => {
            if (!members(collection).includes(caller.msp)) {
                throw new Error(`tx creator does not have ${kind} access permission on privatedata in ` +
                    `chaincodeName:${contract.getName()} collectionName: ${collection}`);
            }
        };
        const writePrivate = (collection: string, key: string, value: Bytes | null): void => {
            access(collection, 'write');
            writes.push(`private:${collection}:${key}`);
            pendingPrivate.push([collection, key, value === null ? null : Buffer.from(value)]);
        };

        const stub = {
            getTxID: () => txId,
            getChannelID: () => ledger.channel,
            getFunctionAndParameters: () => ({ fcn, params: args }),
            getBufferArgs: () => bufferArgs,
            getDateTimestamp: () => new Date(time.getTime()),
            getTxTimestamp: () => ({ seconds, nanos: 0 }),
            getState: async (key: string) => ledger.state.get(key) ?? new Uint8Array(0),
            putState: async (key: string, value: Bytes) => {
                if (typeof key !== 'string' || key === '') throw new Error('putState needs a key');
                writes.push(key);
                // Fabric treats an empty value as a delete; chaincode must never rely on that.
                if (value.length === 0) throw new Error(`empty value written to ${JSON.stringify(key)}`);
                pending.set(key, Buffer.from(value));
            },
            deleteState: async (key: string) => {
                writes.push(key);
                pending.set(key, null);
            },
            setStateValidationParameter: async (key: string, policy: Bytes) => {
                writes.push(`validation:${key}`);
                pendingParameters.set(key, policy);
            },
            getStateValidationParameter: async (key: string) => ledger.validationParameters.get(key) ?? new Uint8Array(0),
            createCompositeKey: (objectType: string, attributes: string[]) =>
                `\u0000${objectType}\u0000${attributes.map((a) => `${a}\u0000`).join('')}`,
            splitCompositeKey: (key: string) => {
                const parts = key.split('\u0000');
                return { objectType: parts[1], attributes: parts.slice(2, -1) };
            },
            // Like the real shim: a Promise of an iterator that is itself async-iterable.
            getStateByPartialCompositeKey: (objectType: string, attributes: string[]) => {
                const prefix = `\u0000${objectType}\u0000${attributes.map((a) => `${a}\u0000`).join('')}`;
                const iterator = iteratorOver(ledger.sortedKeys(prefix).map((key) => ({ key, value: ledger.state.get(key)! })));
                return Object.assign(Promise.resolve(iterator), { [Symbol.asyncIterator]: () => iterator });
            },
            getStateByPartialCompositeKeyWithPagination: async (
                objectType: string, attributes: string[], pageSize: number, bookmark: string) => {
                // Like the peer (core/chaincode/handler.go): a bookmark replaces the start of the
                // range, wherever it points, and the range still ends where the partial key's ends.
                const prefix = `\u0000${objectType}\u0000${attributes.map((a) => `${a}\u0000`).join('')}`;
                const start = bookmark === '' ? prefix : bookmark;
                const end = `${prefix}\u{10FFFF}`;
                const keys = [...ledger.state.keys()].filter((key) => key >= start && key < end).sort();
                const page = keys.slice(0, pageSize);
                return {
                    iterator: iteratorOver(page.map((key) => ({ key, value: ledger.state.get(key)! }))),
                    // Like the real shim, which leaves metadata undefined for an empty page.
                    metadata: page.length === 0 ? undefined : { fetchedRecordsCount: page.length, bookmark: keys[pageSize] ?? '' },
                };
            },
            getHistoryForKey: (key: string) => {
                const iterator = iteratorOver([...(ledger.history.get(key) ?? [])].reverse());
                return Object.assign(Promise.resolve(iterator), { [Symbol.asyncIterator]: () => iterator });
            },
            getTransient: () => transientMap,
            getPrivateData: async (collection: string, key: string) => {
                access(collection, 'read');
                if (!members(collection).includes(ledger.peerMsp)) return new Uint8Array(0);
                return ledger.privateState.get(collection)?.get(key) ?? new Uint8Array(0);
            },
            getPrivateDataHash: async (collection: string, key: string) => {
                members(collection);
                const value = ledger.privateState.get(collection)?.get(key);
                return value === undefined ? new Uint8Array(0) : createHash('sha256').update(value).digest();
            },
            putPrivateData: async (collection: string, key: string, value: Bytes) => {
                if (value.length === 0) throw new Error(`empty value written to ${JSON.stringify(key)}`);
                writePrivate(collection, key, value);
            },
            deletePrivateData: async (collection: string, key: string) => writePrivate(collection, key, null),
            purgePrivateData: async (collection: string, key: string) => writePrivate(collection, key, null),
            setEvent: (name: string, payload: Bytes) => {
                event = { name, payload: Buffer.from(payload).toString('utf8'), bytes: Buffer.from(payload) };
            },
            invokeChaincode: async (name: string, ccArgs: string[], channel: string) => {
                const handler = ledger.chaincodes.get(name);
                if (!handler || channel !== ledger.channel) {
                    return { status: 500, message: `chaincode ${name} not found on ${channel}`, payload: new Uint8Array(0) };
                }
                return handler(ccArgs, time);
            },
        };

        const ctx = new Context();
        ctx.stub = stub as never;
        ctx.clientIdentity = {
            getMSPID: () => caller.msp,
            getIDBytes: () => Buffer.from(caller.cert ?? CLIENT_CERT),
            getID: () => `x509::${caller.msp}`,
            getAttributeValue: () => null,
            assertAttributeValue: () => false,
        } as never;

        try {
            const own = Object.getOwnPropertyNames(Object.getPrototypeOf(contract));
            const target = contract as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
            let result: unknown;
            if (own.includes(fcn) && fcn !== 'constructor' && !fcn.startsWith('_')) {
                await contract.beforeTransaction(ctx);
                result = await target[fcn].call(contract, ctx, ...args);
            } else {
                await contract.unknownTransaction(ctx);
            }
            for (const [key, value] of pending) {
                this.commit(key, value, txId, seconds);
            }
            for (const [key, policy] of pendingParameters) {
                this.validationParameters.set(key, policy);
            }
            for (const [collection, key, value] of pendingPrivate) {
                const store = this.privateState.get(collection) ?? new Map<string, Bytes>();
                if (value === null) store.delete(key);
                else store.set(key, value);
                this.privateState.set(collection, store);
            }
            return { ok: true, payload: typeof result === 'string' ? result : '', error: '', writes, event };
        } catch (error) {
            return { ok: false, payload: '', error: (error as Error).message, writes, event: null };
        }
    }

    /**
     * Lets `contract`, whose state lives in `home` (its own namespace), answer
     * invokeChaincode(name, ...) calls made by contracts on this ledger; the call must not write.
     */
    register(name: string, contract: Contract, caller: Caller, home: FakeLedger): void {
        this.chaincodes.set(name, async (args, time) => {
            const result = await home.invoke(contract, args[0], args.slice(1), caller, time);
            if (result.writes.length > 0) throw new Error('a cross-chaincode query must not write');
            return result.ok
                ? { status: 200, message: '', payload: Buffer.from(result.payload) }
                : { status: 500, message: result.error, payload: new Uint8Array(0) };
        });
    }

    private commit(key: string, value: Bytes | null, txId: string, seconds: number): void {
        if (value === null) this.state.delete(key);
        else this.state.set(key, value);
        const records = this.history.get(key) ?? [];
        records.push({ txId, value: value ?? new Uint8Array(0), isDelete: value === null, timestamp: { seconds, nanos: 0 } });
        this.history.set(key, records);
    }

    private sortedKeys(prefix: string): string[] {
        return [...this.state.keys()].filter((key) => key.startsWith(prefix)).sort();
    }
}

/** The error code of a failed call, e.g. 'FORBIDDEN'. */
export function codeOf(result: TxResult): string {
    return result.ok ? 'OK' : result.error.split(':')[0];
}

export const at = (iso: string): Date => new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso);
