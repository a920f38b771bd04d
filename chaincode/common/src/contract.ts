import { Context, Contract } from 'fabric-contract-api';
import { invalidArgument } from './errors';
import { decodeUtf8 } from './text';

/**
 * Base of both contracts. Only methods declared directly on a subclass become transactions
 * (fabric-contract-api reads the immediate prototype), so the hooks here are not callable.
 * Transactions declare no TypeScript decorators: without them the contract API hands every
 * argument over as a raw string and skips its own count check, so our own validation reports
 * every problem in the `CODE: text` form.
 */
export class CarbonContract extends Contract {
    /**
     * The shim decodes arguments with Buffer.toString(), which silently turns bytes that are not
     * UTF-8 into U+FFFD: the ledger would keep text the caller never sent. Such a call is refused.
     */
    async beforeTransaction(ctx: Context): Promise<void> {
        // getBufferArgs (the function name, then the arguments) is in the shim but not its typings.
        const raw = (ctx.stub as unknown as { getBufferArgs(): Uint8Array[] }).getBufferArgs();
        raw.forEach((bytes, index) => decodeUtf8(bytes, index === 0 ? 'function' : `argument ${index}`));
    }

    async unknownTransaction(ctx: Context): Promise<void> {
        const { fcn } = ctx.stub.getFunctionAndParameters();
        throw invalidArgument('function', `no transaction named ${JSON.stringify(fcn)}`);
    }
}
