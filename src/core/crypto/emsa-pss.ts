// EMSA-PSS encoding and verification (RFC 8017 §9.1) with MGF1 (§B.2.1), for RSA-PSS over a
// caller-supplied digest, where node:crypto's sign() would hash the input again.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HASH_BYTES, type HashName } from './hash-names.ts';

/** RFC 8017 §B.2.1. */
export function mgf1(hash: HashName, seed: Uint8Array, length: number): Buffer {
  const hLen = HASH_BYTES[hash];
  const out = Buffer.alloc(Math.ceil(length / hLen) * hLen);
  const counter = Buffer.alloc(4);
  for (let i = 0; i * hLen < length; i++) {
    counter.writeUInt32BE(i);
    createHash(hash).update(seed).update(counter).digest().copy(out, i * hLen);
  }
  return out.subarray(0, length);
}

/** M' = (0x)00 00 00 00 00 00 00 00 ‖ mHash ‖ salt, hashed (§9.1.1 steps 5–6). */
function hashPrime(hash: HashName, mHash: Uint8Array, salt: Uint8Array): Buffer {
  return createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
}

/** §9.1.1 EMSA-PSS-ENCODE; returns EM of ceil(emBits/8) bytes. `salt` is for known-answer tests. */
export function emsaPssEncode(hash: HashName, mHash: Uint8Array, emBits: number, salt: Uint8Array = randomBytes(HASH_BYTES[hash])): Buffer {
  const hLen = HASH_BYTES[hash];
  const emLen = Math.ceil(emBits / 8);
  if (mHash.length !== hLen) throw new RangeError('mHash length does not match the hash');
  if (emLen < hLen + salt.length + 2) throw new RangeError('encoding error: modulus too short');
  const h = hashPrime(hash, mHash, salt);
  const dbLength = emLen - hLen - 1;
  // DB = PS ‖ 0x01 ‖ salt, PS being zeros (steps 7–8)
  const db = Buffer.alloc(dbLength);
  db[dbLength - salt.length - 1] = 0x01;
  db.set(salt, dbLength - salt.length);
  const mask = mgf1(hash, h, dbLength);
  for (let i = 0; i < dbLength; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  // Step 11: clear the leftmost 8·emLen − emBits bits so EM < 2^emBits < n.
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** §9.1.2 EMSA-PSS-VERIFY with a fixed salt length; `em` is exactly ceil(emBits/8) bytes. */
export function emsaPssVerify(hash: HashName, mHash: Uint8Array, em: Uint8Array, emBits: number, saltLength: number): boolean {
  const hLen = HASH_BYTES[hash];
  const emLen = Math.ceil(emBits / 8);
  if (mHash.length !== hLen || em.length !== emLen) return false;
  if (emLen < hLen + saltLength + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLength = emLen - hLen - 1;
  const maskedDb = em.subarray(0, dbLength);
  const h = em.subarray(dbLength, dbLength + hLen);
  const topBits = 0xff >> (8 * emLen - emBits);
  if (((maskedDb[0] ?? 0) & ~topBits) !== 0) return false;
  const mask = mgf1(hash, h, dbLength);
  const db = Buffer.alloc(dbLength);
  for (let i = 0; i < dbLength; i++) db[i] = (maskedDb[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & topBits;
  const separator = dbLength - saltLength - 1;
  for (let i = 0; i < separator; i++) if (db[i] !== 0) return false;
  if (db[separator] !== 0x01) return false;
  const expected = hashPrime(hash, mHash, db.subarray(dbLength - saltLength));
  return timingSafeEqual(expected, h);
}
