// The detached JWS format; only re-exports.
export { jwsSigner } from './jws-signer.ts';
