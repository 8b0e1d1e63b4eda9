// VssmService: symmetric and asymmetric encrypt/decrypt, sign/verify and HMAC create/verify, each
// run by the engine (which authorises and audits it) on the key of that name in the caller's project.
import { checkOperation, type EncryptionAlgorithm } from '../../core/algorithms/index.ts';
import type { KeyMetadata, SignRequest } from '../../core/engine/index.ts';
// The ciphertext header is the engine's own format; VSSM's raw RSA-OAEP ciphertexts are framed in it.
import { CIPHERTEXT_HEADER_BYTES as HEADER_BYTES, encodeCiphertextHeader as encodeHeader } from '../../core/engine/index.ts';
import { decryptFailed } from '../../core/errors.ts';
import { encodeProtoBytes, type Decoded } from './proto-json.ts';
import { vssmKeyRef, type VssmCall } from './vssm-call.ts';
import { resolveVssmAsymmetric, resolveVssmHmac, resolveVssmSignature, resolveVssmSymmetric } from './vssm-algorithms.ts';
import { rsaModulusBytes } from './vssm-key-types.ts';
import type { ASYMMETRIC_REQUEST, HMAC_CREATE_REQUEST, HMAC_VERIFY_REQUEST, SIGN_REQUEST, SYMMETRIC_REQUEST, VERIFY_REQUEST } from './vssm-messages.ts';

/** Encodes plaintext for the response, then wipes it: the string is what leaves. */
function releasePlaintext(plaintext: Buffer): { output: string } {
  const output = encodeProtoBytes(plaintext);
  plaintext.fill(0);
  return { output };
}

/** Decrypts under the named key only (a ciphertext naming another key fails) and the named algorithm. */
async function decryptUnder(call: VssmCall, key: KeyMetadata, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array): Promise<{ output: string }> {
  const result = await call.engine.crypto.decrypt(call.caller, ciphertext, { keyId: key.id });
  if (result.algorithm !== algorithm) {
    result.plaintext.fill(0);
    await call.audit.checked(() => {
      throw decryptFailed();
    });
  }
  return releasePlaintext(result.plaintext);
}

async function describeFor(call: VssmCall, keyName: string, algorithm: EncryptionAlgorithm): Promise<KeyMetadata> {
  const ref = await call.audit.checked(() => vssmKeyRef(call, keyName));
  const key = await call.engine.keys.describe(call.caller, ref);
  await call.audit.checked(() => {
    checkOperation(key.spec, key.usage, 'DECRYPT', algorithm);
  });
  return key;
}

export async function symmetricEncrypt(call: VssmCall, body: Decoded<typeof SYMMETRIC_REQUEST>): Promise<{ output: string }> {
  const [algorithm, ref] = await call.audit.checked(() => [resolveVssmSymmetric(body.algorithm), vssmKeyRef(call, body.keyName)] as const);
  // Output is Coffer's self-describing ciphertext, not VSSM's nonce ‖ ciphertext ‖ tag (see the docs).
  const result = await call.engine.crypto.encrypt(call.caller, ref, body.input, { algorithm });
  return { output: encodeProtoBytes(result.ciphertext) };
}

export async function symmetricDecrypt(call: VssmCall, body: Decoded<typeof SYMMETRIC_REQUEST>): Promise<{ output: string }> {
  const algorithm = await call.audit.checked(() => resolveVssmSymmetric(body.algorithm));
  const key = await describeFor(call, body.keyName, algorithm);
  return decryptUnder(call, key, algorithm, body.input);
}

/** RSA-OAEP output is the raw RFC 8017 ciphertext, as VSSM gives: the engine's header is cut off. */
export async function asymmetricEncrypt(call: VssmCall, body: Decoded<typeof ASYMMETRIC_REQUEST>): Promise<{ output: string }> {
  const [algorithm, ref] = await call.audit.checked(() => [resolveVssmAsymmetric(body.algorithm), vssmKeyRef(call, body.keyName)] as const);
  const result = await call.engine.crypto.encrypt(call.caller, ref, body.input, { algorithm });
  return { output: encodeProtoBytes(result.ciphertext.subarray(HEADER_BYTES)) };
}

/**
 * Accepts a raw RSA-OAEP ciphertext (exactly k bytes: VSSM's format, or one made offline with the
 * public key) under the key's current version, or a Coffer ciphertext (header ‖ k bytes) under any.
 */
export async function asymmetricDecrypt(call: VssmCall, body: Decoded<typeof ASYMMETRIC_REQUEST>): Promise<{ output: string }> {
  const algorithm = await call.audit.checked(() => resolveVssmAsymmetric(body.algorithm));
  const key = await describeFor(call, body.keyName, algorithm);
  const raw = body.input.length === rsaModulusBytes(key.spec);
  const ciphertext = raw
    ? Buffer.concat([encodeHeader({ algorithm, keyId: key.id, keyVersion: key.currentVersion }), body.input])
    : body.input;
  return decryptUnder(call, key, algorithm, ciphertext);
}

/** VSSM's rule: a non-empty input is the message; otherwise `hashed` is its digest. */
function signInput(body: { readonly input: Buffer; readonly hashed: Buffer }, algorithm: string): SignRequest {
  if (body.input.length === 0 && body.hashed.length > 0) return { algorithm, digest: body.hashed };
  return { algorithm, message: body.input };
}

export async function asymmetricSign(call: VssmCall, body: Decoded<typeof SIGN_REQUEST>): Promise<{ output: string }> {
  const [algorithm, ref] = await call.audit.checked(() => [resolveVssmSignature(body.algorithm), vssmKeyRef(call, body.keyName)] as const);
  // ECDSA signatures are DER (ASN.1 r, s) as in VSSM; RSA is PKCS#1 v1.5 or PSS.
  const result = await call.engine.crypto.sign(call.caller, ref, signInput(body, algorithm));
  return { output: encodeProtoBytes(result.signature) };
}

export async function asymmetricVerify(call: VssmCall, body: Decoded<typeof VERIFY_REQUEST>): Promise<{ valid: boolean }> {
  const [algorithm, ref] = await call.audit.checked(() => [resolveVssmSignature(body.algorithm), vssmKeyRef(call, body.keyName)] as const);
  const result = await call.engine.crypto.verify(call.caller, ref, { ...signInput(body, algorithm), signature: body.signature });
  return { valid: result.valid };
}

export async function hmacCreate(call: VssmCall, body: Decoded<typeof HMAC_CREATE_REQUEST>): Promise<{ output: string }> {
  const [algorithm, ref] = await call.audit.checked(() => [resolveVssmHmac(body.algorithm), vssmKeyRef(call, body.keyName)] as const);
  const result = await call.engine.crypto.generateMac(call.caller, ref, body.input, { algorithm });
  return { output: encodeProtoBytes(result.mac) };
}

export async function hmacVerify(call: VssmCall, body: Decoded<typeof HMAC_VERIFY_REQUEST>): Promise<{ valid: boolean }> {
  const [algorithm, ref] = await call.audit.checked(() => [resolveVssmHmac(body.algorithm), vssmKeyRef(call, body.keyName)] as const);
  // The engine compares in constant time and tries every accepted key version.
  const result = await call.engine.crypto.verifyMac(call.caller, ref, body.input, body.hmac, { algorithm });
  return { valid: result.valid };
}
