import { Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { ChaincodeError, forbidden } from './errors';
import { Caller, callerOf, requireAdmin, requireClientOrAdmin } from './identity';
import { canonicalJson } from './json';
import { answerWithEvent, readJson, txClock, writeJson } from './ledger';
import { parseObjectArg, readArray, readMspId } from './validate';

/**
 * Which MSP plays which part is ledger configuration, so a partner that joins the channel later
 * is admitted by a SetRoles, not by a code change. Each chaincode keeps its own copy under the
 * simple key `roles` (composite keys start with U+0000, so it cannot collide with them).
 */
export const ROLE_NAMES = ['lessor', 'grid', 'regulator', 'partner'] as const;
export type RoleName = typeof ROLE_NAMES[number];

export const ROLES_KEY = 'roles';
const MAX_MSPS_PER_ROLE = 50;

export interface RolesConfig {
    lessor: string[];
    grid: string[];
    regulator: string[];
    partner: string[];
    version: number;
    updated_at: string;
    updated_by_msp: string;
}

function parseRoles(rolesJson: string): Record<RoleName, string[]> {
    const object = parseObjectArg(rolesJson, 'roles_json', [...ROLE_NAMES]);
    const roles = {} as Record<RoleName, string[]>;
    for (const role of ROLE_NAMES) {
        const field = `roles_json.${role}`;
        const mspIds = readArray(object[role], field, 0, MAX_MSPS_PER_ROLE)
            .map((mspId, index) => readMspId(mspId, `${field}[${index}]`));
        // Sorted and de-duplicated so the stored config (and the policy built from it) does not
        // depend on how the caller happened to order the list.
        roles[role] = [...new Set(mspIds)].sort();
    }
    for (const role of ['lessor', 'regulator'] as const) {
        if (roles[role].length === 0) {
            throw new ChaincodeError('INVALID_ARGUMENT',
                `roles_json.${role}: must list at least one MSP (it guards changes to the roles)`);
        }
    }
    return roles;
}

export async function readRoles(ctx: Context): Promise<RolesConfig | null> {
    return readJson<RolesConfig>(ctx, ROLES_KEY);
}

/**
 * SetRoles: the first call (no config yet) may come from any admin; later ones from an admin of
 * a current lessor or regulator org. Beyond that check, the key-level endorsement policy written
 * here makes peers of every lessor AND regulator MSP endorse the next change, which is the real
 * protection: a chaincode check alone runs only on peers the submitter chose.
 */
export async function setRoles(ctx: Context, rolesJson: string): Promise<string> {
    const roles = parseRoles(rolesJson);
    const caller = callerOf(ctx);
    requireAdmin(caller);
    const current = await readRoles(ctx);
    if (current !== null && !current.lessor.includes(caller.mspId) && !current.regulator.includes(caller.mspId)) {
        throw forbidden(`only an admin of a lessor or regulator org may change the roles, not ${caller.mspId}`);
    }
    const config: RolesConfig = {
        ...roles,
        version: current === null ? 1 : current.version + 1,
        updated_at: txClock(ctx).iso,
        updated_by_msp: caller.mspId,
    };
    await writeJson(ctx, ROLES_KEY, config);
    const policy = new KeyEndorsementPolicy();
    policy.addOrgs('PEER', ...new Set([...config.lessor, ...config.regulator]));
    await ctx.stub.setStateValidationParameter(ROLES_KEY, policy.getPolicy());
    return answerWithEvent(ctx, 'RolesSet', config);
}

export async function getRoles(ctx: Context): Promise<string> {
    const config = await readRoles(ctx);
    if (config === null) {
        throw new ChaincodeError('ROLES_NOT_SET', 'no roles configured yet; call SetRoles first');
    }
    return canonicalJson(config);
}

/**
 * Gate for a write: the caller's MSP must play one of the given parts and the caller must be a
 * client or admin identity. Returns the caller for recording who did what.
 */
export async function requireRole(ctx: Context, ...allowed: RoleName[]): Promise<Caller> {
    const config = await readRoles(ctx);
    if (config === null) {
        throw new ChaincodeError('ROLES_NOT_SET', 'no roles configured yet; call SetRoles first');
    }
    const caller = callerOf(ctx);
    if (!allowed.some((role) => config[role].includes(caller.mspId))) {
        throw forbidden(`${caller.mspId} does not play the part of ${allowed.join(' or ')}`);
    }
    requireClientOrAdmin(caller);
    return caller;
}
