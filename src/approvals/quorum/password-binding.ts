// A password bound into a quorum token without ever being stored or shown: the token's parameters
// carry a random salt and scrypt(password) under a domain-separated salt, and the requester hands the
// password itself to `apply`, where it is checked against them in constant time.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';

/** Domain separation: a binding digest is never equal to a stored password hash or anything else. */
export const PASSWORD_BINDING_PREFIX = 'coffer/quorum/password/v1';
const SALT_BYTES = 16;
const DIGEST_BYTES = 32;
// scrypt N = 2^15, r = 8, p = 1 (OWASP's baseline, as the directory's password hashes): approvers and
// auditors read the binding, so guessing a password from it must be as slow as guessing it from a hash.
const COST = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const SALT_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/** What the token's parameters carry in place of a password. */
export interface PasswordBinding {
  /** 16 random bytes, base64url without padding. */
  readonly passwordSalt: string;
  /** Lowercase hex of scrypt(password, prefix ‖ 0x00 ‖ name ‖ 0x00 ‖ salt, 32 bytes). */
  readonly passwordDigest: string;
}

function derive(name: string, password: string, salt: Buffer): Promise<Buffer> {
  // The principal name has no NUL and the salt is fixed-length, so the encoding is unambiguous.
  const scryptSalt = Buffer.concat([Buffer.from(PASSWORD_BINDING_PREFIX, 'utf8'), Buffer.of(0), Buffer.from(name, 'utf8'), Buffer.of(0), salt]);
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), scryptSalt, DIGEST_BYTES, COST, (error, key) => {
      if (error === null) resolve(key);
      else reject(error);
    });
  });
}

/** The requester's side: binds `password` for principal `name` with a fresh salt. */
export async function bindQuorumPassword(name: string, password: string): Promise<PasswordBinding> {
  const salt = randomBytes(SALT_BYTES);
  return { passwordSalt: salt.toString('base64url'), passwordDigest: (await derive(name, password, salt)).toString('hex') };
}

/** True when `value` has the shape of a binding (both fields well-formed). */
export function isPasswordBinding(value: { readonly passwordSalt?: unknown; readonly passwordDigest?: unknown }): value is PasswordBinding {
  return typeof value.passwordSalt === 'string' && SALT_PATTERN.test(value.passwordSalt)
    && typeof value.passwordDigest === 'string' && DIGEST_PATTERN.test(value.passwordDigest);
}

/** The node's side at apply: APPROVAL_MISMATCH unless `password` is the one bound (constant-time). */
export async function checkQuorumPassword(name: string, password: string, binding: PasswordBinding): Promise<void> {
  const expected = Buffer.from(binding.passwordDigest, 'hex');
  const actual = await derive(name, password, Buffer.from(binding.passwordSalt, 'base64url'));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new CofferError('APPROVAL_MISMATCH', 'the password differs from the one approved');
  }
}
