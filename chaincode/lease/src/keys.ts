import { Context } from 'fabric-contract-api';

/** Every ledger key of the lease chaincode, in one place. */
export const PROJECT = 'project';
export const INTEREST = 'interest';
export const projectKey = (ctx: Context, projectId: string): string => ctx.stub.createCompositeKey(PROJECT, [projectId]);
export const interestKey = (ctx: Context, projectId: string, partnerMsp: string): string =>
    ctx.stub.createCompositeKey(INTEREST, [projectId, partnerMsp]);
export const leaseKey = (ctx: Context, leaseId: string): string => ctx.stub.createCompositeKey('lease', [leaseId]);

/**
 * The private data collection of lease terms (network/consortium.yaml defines it: members
 * LessorMSP and RegulatorMSP) and its keys. Periods are zero-padded so keys sort by period.
 */
export const TERMS_COLLECTION = 'leaseTerms';
const period3 = (period: number): string => String(period).padStart(3, '0');
export const termsKey = (ctx: Context, leaseId: string): string => ctx.stub.createCompositeKey('terms', [leaseId]);
export const adjustmentKey = (ctx: Context, leaseId: string, period: number): string =>
    ctx.stub.createCompositeKey('adjustment', [leaseId, period3(period)]);
export const paymentKey = (ctx: Context, leaseId: string, period: number): string =>
    ctx.stub.createCompositeKey('payment', [leaseId, period3(period)]);
export const terminationKey = (ctx: Context, leaseId: string): string =>
    ctx.stub.createCompositeKey('termination', [leaseId]);
