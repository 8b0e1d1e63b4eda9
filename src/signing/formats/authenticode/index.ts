// The Authenticode (signed PE) format; only re-exports.
export { AUTHENTICODE_MEDIA_TYPE, authenticodeSigner } from './authenticode-signer.ts';
export type { AuthenticodeOptions } from './authenticode-signer.ts';
export { hashPeImage } from './image-hash.ts';
export { parsePeLayout } from './pe-image.ts';
export type { PeLayout } from './pe-image.ts';
