import { Context } from 'fabric-contract-api';

/** Every ledger key of the lease chaincode, in one place. */
export const PROJECT = 'project';
export const INTEREST = 'interest';
export const projectKey = (ctx: Context, projectId: string): string => ctx.stub.createCompositeKey(PROJECT, [projectId]);
export const interestKey = (ctx: Context, projectId: string, partnerMsp: string): string =>
    ctx.stub.createCompositeKey(INTEREST, [projectId, partnerMsp]);
export const leaseKey = (ctx: Context, leaseId: string): string => ctx.stub.createCompositeKey('lease', [leaseId]);
