import { EmissionContract } from './contract';

// fabric-chaincode-node reads `contracts` from the package's main module.
export const contracts = [EmissionContract];
export { EmissionContract };
