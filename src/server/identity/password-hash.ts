// Password hashing with scrypt (RFC 7914): self-describing encoded hashes, constant-time verification,
// and a dummy verification that costs the same, so unknown principals cannot be told apart by timing.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';

// N = 2^15, r = 8, p = 1: OWASP's scrypt baseline; 128·N·r = 32 MiB of memory per hash.
export const SCRYPT_N = 2 ** 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

// Bounds on parameters read back from a stored hash (defence in depth: the record is authenticated
// by the barrier, but a bad value must not make the node allocate gigabytes).
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

interface ScryptParams {
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

const CURRENT: ScryptParams = { n: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P };

function derive(password: string, salt: Uint8Array, params: ScryptParams, length: number): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is just below what N = 2^15, r = 8 needs; allow twice the V array.
  const options: ScryptOptions = { N: params.n, r: params.r, p: params.p, maxmem: 2 * 128 * params.n * params.r * params.p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), salt, length, options, (error, key) => {
      if (error === null) resolve(key);
      else reject(new CofferError('INTERNAL_ERROR', 'password hashing failed', { cause: error }));
    });
  });
}

/** Code points, not UTF-16 units: the limit a person reads in the policy. */
function passwordLength(password: string): number {
  return Array.from(password).length;
}

/**
 * NFC-normalised password if it meets the policy (12-1024 characters, well-formed Unicode),
 * undefined otherwise. NFC (as in RFC 8265's OpaqueString) makes the same password typed on two
 * keyboards hash the same.
 */
function normalised(password: unknown): string | undefined {
  if (typeof password !== 'string' || !password.isWellFormed()) return undefined;
  // Checked before normalising too, so an enormous input is refused before any work is done on it.
  if (password.length > 4 * MAX_PASSWORD_LENGTH) return undefined;
  const nfc = password.normalize('NFC');
  const length = passwordLength(nfc);
  return length >= MIN_PASSWORD_LENGTH && length <= MAX_PASSWORD_LENGTH ? nfc : undefined;
}

/** True when `password` meets the policy. */
export function isAcceptablePassword(password: unknown): boolean {
  return normalised(password) !== undefined;
}

function policyError(): CofferError {
  return new CofferError('INVALID_ARGUMENT', `a password must be ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters of well-formed text`);
}

/** Throws INVALID_ARGUMENT (never echoing the password) unless it meets the policy. */
export function checkPassword(password: unknown): void {
  if (!isAcceptablePassword(password)) throw policyError();
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url without padding. */
export async function hashPassword(password: string): Promise<string> {
  const nfc = normalised(password);
  if (nfc === undefined) throw policyError();
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(nfc, salt, CURRENT, HASH_BYTES);
  return ['scrypt', CURRENT.n, CURRENT.r, CURRENT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function positiveInt(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= max ? value : undefined;
}

function parseHash(encoded: string): ParsedHash | undefined {
  const [scheme, n, r, p, salt, hash, ...rest] = encoded.split('$');
  if (scheme !== 'scrypt' || rest.length > 0 || salt === undefined || hash === undefined) return undefined;
  const params = { n: positiveInt(n, MAX_N), r: positiveInt(r, MAX_R), p: positiveInt(p, MAX_P) };
  if (params.n === undefined || params.r === undefined || params.p === undefined) return undefined;
  // N must be a power of two greater than 1 (RFC 7914 §2).
  if (params.n < 2 || (params.n & (params.n - 1)) !== 0) return undefined;
  if (!BASE64URL.test(salt) || !BASE64URL.test(hash)) return undefined;
  const parsed = { params: { n: params.n, r: params.r, p: params.p }, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
  return parsed.salt.length >= SALT_BYTES && parsed.hash.length >= 16 && parsed.hash.length <= 64 ? parsed : undefined;
}

/** True when `encoded` is a hash this module can verify (used when decoding stored records). */
export function isEncodedPasswordHash(encoded: unknown): encoded is string {
  return typeof encoded === 'string' && encoded.length <= 512 && parseHash(encoded) !== undefined;
}

/**
 * Whether `password` matches `encoded`, compared in constant time. A password outside the policy
 * is refused without hashing: the policy is public, so that timing reveals nothing about anyone.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const nfc = normalised(password);
  const parsed = parseHash(encoded);
  if (nfc === undefined) return false;
  if (parsed === undefined) throw new CofferError('STORE_CORRUPT', 'a stored password hash is malformed');
  const candidate = await derive(nfc, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}

// Random salt and random "hash" under the current parameters: verifying against it runs the same
// scrypt and the same comparison as a real principal's hash, and matches no password.
const DUMMY_HASH = ['scrypt', CURRENT.n, CURRENT.r, CURRENT.p, randomBytes(SALT_BYTES).toString('base64url'), randomBytes(HASH_BYTES).toString('base64url')].join('$');

/**
 * Spends the time of one verification and returns false: used for unknown principals and principals
 * without a password, so a login answers in the same time whether or not the name exists.
 */
export async function dummyVerify(password: string): Promise<false> {
  await verifyPassword(password, DUMMY_HASH);
  return false;
}
