// The OpenPGP format: detached signatures, the key's certificate, cleartext signatures; only re-exports.
export { MAX_CLEARTEXT_BYTES, openpgpClearSign } from './clear-sign.ts';
export { openpgpPublicKey, type OpenPgpPublicKey, type OpenPgpPublicKeyOptions } from './openpgp-public-key.ts';
export { openpgpSigner } from './openpgp-signer.ts';
