// The raw detached-signature format; only re-exports.
export { rawSigner } from './raw-signer.ts';
