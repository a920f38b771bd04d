import { Context, Contract } from 'fabric-contract-api';
import { invalidArgument } from './errors';

/**
 * Base of both contracts. Only methods declared directly on a subclass become transactions
 * (fabric-contract-api reads the immediate prototype), so the hooks here are not callable.
 * Transactions declare no TypeScript decorators: without them the contract API hands every
 * argument over as a raw string and skips its own count check, so our own validation reports
 * every problem in the `CODE: text` form.
 */
export class CarbonContract extends Contract {
    async unknownTransaction(ctx: Context): Promise<void> {
        const { fcn } = ctx.stub.getFunctionAndParameters();
        throw invalidArgument('function', `no transaction named ${fcn}`);
    }
}
