/**
 * Every error that leaves a transaction has the message `CODE: text`; the REST gateway maps the
 * CODE prefix to an HTTP status, so the set of codes is closed.
 */
export type ErrorCode =
    | 'INVALID_ARGUMENT'
    | 'NOT_FOUND'
    | 'ALREADY_EXISTS'
    | 'FORBIDDEN'
    | 'INVALID_STATE'
    | 'ROLES_NOT_SET';

export class ChaincodeError extends Error {
    readonly code: ErrorCode;

    constructor(code: ErrorCode, text: string) {
        super(`${code}: ${text}`);
        this.code = code;
        this.name = 'ChaincodeError';
    }
}

export const invalidArgument = (field: string, text: string): ChaincodeError =>
    new ChaincodeError('INVALID_ARGUMENT', `${field}: ${text}`);
export const notFound = (text: string): ChaincodeError => new ChaincodeError('NOT_FOUND', text);
export const alreadyExists = (text: string): ChaincodeError => new ChaincodeError('ALREADY_EXISTS', text);
export const forbidden = (text: string): ChaincodeError => new ChaincodeError('FORBIDDEN', text);
export const invalidState = (text: string): ChaincodeError => new ChaincodeError('INVALID_STATE', text);
