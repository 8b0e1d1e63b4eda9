// The algorithm table and the crypto operations on prepared keys; only re-exports.
export { HASH_BYTES, type HashName } from '../crypto/hash-names.ts';
export { SIGNING_PARAMETERS, signingDigestLength, type SignatureScheme, type SigningParameters } from './algorithm-parameters.ts';
export { checkOperation, type KeyOperation } from './check-operation.ts';
export { decrypt, decryptAsync, encrypt, oaepPlaintextLimit } from './encryption.ts';
export { generateKeyMaterial, generateKeyMaterialAsync, importKeyMaterial, type KeyMaterial } from './key-material.ts';
export { MAX_AES_PLAINTEXT, MAX_MAC_MESSAGE, MAX_SIGN_MESSAGE, MAX_WRAP_MATERIAL } from './limits.ts';
export { computeMac, verifyMac } from './mac.ts';
export * from './names.ts';
export { prepareKey, preparePublicKey, publicKeySpki, type PreparedKey } from './prepared-key.ts';
export {
  resolveEncryptionAlgorithm, resolveKeySpec, resolveKeyUsage, resolveMacAlgorithm, resolveSigningAlgorithm,
  resolveWrappingAlgorithm,
} from './resolve-names.ts';
export { sign, signAsync, verify } from './signing.ts';
export { checkSpecUsage, specInfo, type KeyFamily, type SpecInfo } from './spec-table.ts';
export { unwrap, wrap } from './wrapping.ts';
