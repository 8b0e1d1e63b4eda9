// Backend-neutral checks of Store arguments, so every backend rejects the same inputs the same way.
import { CofferError } from '../core/errors.ts';
import type { ListOptions, StoreWrite } from './store.ts';

/** Keys are paths made of ids and names; 1 KiB is far above any real one and keeps indexes small. */
export const MAX_KEY_BYTES = 1024;
/** Records are small ciphertexts; the cap stops a bug or a hostile caller from filling the store. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

/**
 * A key-shaped string: well-formed Unicode (a lone surrogate has no UTF-8 form, so two keys could
 * collide), no NUL (PostgreSQL text cannot hold it), at most MAX_KEY_BYTES of UTF-8.
 */
function checkKeyText(value: unknown, what: string, allowEmpty: boolean): string {
  if (typeof value !== 'string') throw invalid(`${what} must be a string`);
  if (!allowEmpty && value.length === 0) throw invalid(`${what} must not be empty`);
  if (!value.isWellFormed()) throw invalid(`${what} must be well-formed Unicode`);
  if (value.includes('\0')) throw invalid(`${what} must not contain NUL`);
  if (Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) throw invalid(`${what} exceeds ${MAX_KEY_BYTES} bytes`);
  return value;
}

export function validateKey(key: unknown): string {
  return checkKeyText(key, 'key', false);
}

function validateExpectVersion(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid('expectVersion must be a non-negative integer');
  }
}

function validateLimit(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid('limit must be a positive integer');
  }
}

/** Checks a whole batch before anything is applied: shape, keys, values, versions, no duplicates. */
export function validateWrites(writes: unknown): readonly StoreWrite[] {
  if (!Array.isArray(writes)) throw invalid('writes must be an array');
  if (writes.length === 0) throw invalid('a commit needs at least one write');
  const seen = new Set<string>();
  for (const write of writes as unknown[]) {
    if (typeof write !== 'object' || write === null) throw invalid('each write must be an object');
    const { op, key, value, expectVersion } = write as Record<string, unknown>;
    if (op !== 'put' && op !== 'delete') throw invalid("a write's op must be 'put' or 'delete'");
    const checked = validateKey(key);
    // Two writes to one key would make "the key's new version" ambiguous within a commit.
    if (seen.has(checked)) throw invalid('a commit must not write the same key twice');
    seen.add(checked);
    if (op === 'put') {
      if (!(value instanceof Uint8Array)) throw invalid('a put value must be a Uint8Array');
      if (value.byteLength > MAX_VALUE_BYTES) throw invalid(`a value exceeds ${MAX_VALUE_BYTES} bytes`);
    }
    validateExpectVersion(expectVersion);
  }
  return writes as readonly StoreWrite[];
}

export function validateListArgs(prefix: unknown, options: unknown): void {
  checkKeyText(prefix, 'prefix', true);
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw invalid('list options must be an object');
  const { after, limit } = options as ListOptions;
  if (after !== undefined) checkKeyText(after, 'after', true);
  validateLimit(limit);
}

export function validateChangesArgs(afterRevision: unknown, limit: unknown): void {
  if (typeof afterRevision !== 'number' || !Number.isSafeInteger(afterRevision) || afterRevision < 0) {
    throw invalid('afterRevision must be a non-negative integer');
  }
  validateLimit(limit);
}
