import { X509Certificate } from 'crypto';
import { Context } from 'fabric-contract-api';
import { forbidden } from './errors';

/**
 * The caller as the chaincode sees it: the MSP id from the signed proposal and the NodeOU roles
 * from the certificate subject's OU attributes (cryptogen and Fabric CA with NodeOUs enabled put
 * `OU=client`, `OU=admin`, `OU=peer` or `OU=orderer` there). The MSP has already validated the
 * certificate and its OU classification before the chaincode runs.
 */
export interface Caller {
    mspId: string;
    organizationalUnits: string[];
}

export function callerOf(ctx: Context): Caller {
    const mspId = ctx.clientIdentity.getMSPID();
    let subject: string;
    try {
        subject = new X509Certificate(Buffer.from(ctx.clientIdentity.getIDBytes())).subject;
    } catch {
        throw forbidden(`caller of ${mspId} has no readable X.509 certificate`);
    }
    const organizationalUnits = subject
        .split(/\n|\s\+\s/)
        .map((attribute) => attribute.trim())
        .filter((attribute) => attribute.startsWith('OU='))
        .map((attribute) => attribute.slice(3));
    return { mspId, organizationalUnits };
}

/** Applications act through client identities; org admins may act too. Peers and orderers never. */
export function requireClientOrAdmin(caller: Caller): void {
    if (!caller.organizationalUnits.includes('client') && !caller.organizationalUnits.includes('admin')) {
        throw forbidden(`caller of ${caller.mspId} must have NodeOU role client or admin`);
    }
}

export function requireAdmin(caller: Caller): void {
    if (!caller.organizationalUnits.includes('admin')) {
        throw forbidden(`caller of ${caller.mspId} must have NodeOU role admin`);
    }
}
