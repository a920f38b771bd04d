import { Context } from 'fabric-contract-api';
import { CarbonContract, expectArgs, getRoles, setRoles } from '@carbonlease/common';
import {
    activateLease, createLease, fixNextRate, getLease, getLeaseHistory, getPrivateTerms, getSchedule,
    purgeLeasePrivateData, recordPayment, terminateLease,
} from './leases';
import { previewScheduleTx } from './preview';
import { expressInterest, getProject, listInterests, listProjects, registerProject } from './projects';

/**
 * The lease chaincode: one method per transaction, each checking its argument count and
 * delegating. Arguments arrive as raw strings (see CarbonContract).
 */
export class LeaseContract extends CarbonContract {
    constructor() {
        super('lease');
    }

    async SetRoles(ctx: Context, ...args: string[]): Promise<string> {
        const [rolesJson] = expectArgs(args, ['roles_json']);
        return setRoles(ctx, rolesJson);
    }

    async GetRoles(ctx: Context, ...args: string[]): Promise<string> {
        expectArgs(args, []);
        return getRoles(ctx);
    }

    async RegisterProject(ctx: Context, ...args: string[]): Promise<string> {
        const [projectJson] = expectArgs(args, ['project_json']);
        return registerProject(ctx, projectJson);
    }

    async GetProject(ctx: Context, ...args: string[]): Promise<string> {
        const [projectId] = expectArgs(args, ['project_id']);
        return getProject(ctx, projectId);
    }

    async ListProjects(ctx: Context, ...args: string[]): Promise<string> {
        const [pageSize, bookmark] = expectArgs(args, ['page_size', 'bookmark']);
        return listProjects(ctx, pageSize, bookmark);
    }

    async ExpressInterest(ctx: Context, ...args: string[]): Promise<string> {
        const [projectId, interestJson] = expectArgs(args, ['project_id', 'interest_json']);
        return expressInterest(ctx, projectId, interestJson);
    }

    async ListInterests(ctx: Context, ...args: string[]): Promise<string> {
        const [projectId] = expectArgs(args, ['project_id']);
        return listInterests(ctx, projectId);
    }

    async CreateLease(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseJson] = expectArgs(args, ['lease_json']);
        return createLease(ctx, leaseJson);
    }

    async ActivateLease(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return activateLease(ctx, leaseId);
    }

    async TerminateLease(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return terminateLease(ctx, leaseId);
    }

    async GetLease(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return getLease(ctx, leaseId);
    }

    async GetSchedule(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return getSchedule(ctx, leaseId);
    }

    async GetLeaseHistory(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return getLeaseHistory(ctx, leaseId);
    }

    async FixNextRate(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return fixNextRate(ctx, leaseId);
    }

    async RecordPayment(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId, period] = expectArgs(args, ['lease_id', 'period']);
        return recordPayment(ctx, leaseId, period);
    }

    async GetPrivateTerms(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return getPrivateTerms(ctx, leaseId);
    }

    async PurgeLeasePrivateData(ctx: Context, ...args: string[]): Promise<string> {
        const [leaseId] = expectArgs(args, ['lease_id']);
        return purgeLeasePrivateData(ctx, leaseId);
    }

    async PreviewSchedule(_ctx: Context, ...args: string[]): Promise<string> {
        const [termsJson, emissionsJson] = expectArgs(args, ['terms_json', 'emissions_json']);
        return previewScheduleTx(termsJson, emissionsJson);
    }
}
