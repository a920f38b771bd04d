import { createHash } from 'crypto';
import { Context } from 'fabric-contract-api';
import { forbidden, invalidArgument } from './errors';
import { fromBytes, Json, toBytes } from './json';
import { decodeUtf8 } from './text';
import { JsonObject, parseObjectArg } from './validate';

/**
 * Private data: values that only the members of a collection hold. They reach the chaincode as
 * transient data (which the peer never writes to a block) and are stored with putPrivateData, so
 * only their SHA-256 hash travels in the block to every peer.
 */

/**
 * One transient entry holding a JSON object with exactly these fields. Its bytes must be UTF-8
 * (a lenient decoding would store U+FFFD where the caller sent something else), and its JSON is
 * read as strictly as an argument's (jsonarg.ts): the fields' values then go through the same
 * readers, and so the same text rules, as public arguments.
 */
export function transientObject(ctx: Context, name: string, required: string[], optional: string[] = []): JsonObject {
    const field = `transient ${name}`;
    const value = ctx.stub.getTransient().get(name);
    if (value === undefined || value.length === 0) {
        throw invalidArgument(field, 'is required: private data travels as transient data, never as a proposal argument');
    }
    return parseObjectArg(decodeUtf8(value, field), field, required, optional);
}

export function sha256Hex(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Stores `value` as canonical JSON and returns the hex SHA-256 of exactly the stored bytes, which
 * is also the hash Fabric itself records for the value in the block and in every peer's state.
 */
export async function writePrivateJson(ctx: Context, collection: string, key: string, value: Json): Promise<string> {
    const bytes = toBytes(value);
    await ctx.stub.putPrivateData(collection, key, bytes);
    return sha256Hex(bytes);
}

/**
 * The value under `key`, or null when this peer holds none (never written, purged, or the peer's
 * org is not a member). A caller whose org may not read the collection is refused by the peer
 * itself (memberOnlyRead): that refusal becomes FORBIDDEN with the peer's reason.
 */
export async function readPrivateJson<T>(ctx: Context, collection: string, key: string): Promise<T | null> {
    let bytes: Uint8Array;
    try {
        bytes = await ctx.stub.getPrivateData(collection, key);
    } catch (error) {
        const message = (error as Error).message;
        if (message.includes('does not have read access permission')) {
            throw forbidden(`collection ${collection} is readable by its member orgs only; the peer says: ${message}`);
        }
        throw error;
    }
    return bytes && bytes.length > 0 ? fromBytes<T>(bytes) : null;
}
