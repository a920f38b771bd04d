import { LeaseContract } from './contract';

// fabric-chaincode-node reads `contracts` from the package's main module.
export const contracts = [LeaseContract];
export { LeaseContract };
