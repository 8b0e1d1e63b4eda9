// Checks applied to every caller-supplied value before the engine acts on it (INVALID_ARGUMENT).
import { CofferError } from '../errors.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

/** Key, project and principal names: 1–128 characters, letters, digits, '.', '_' and '-'. */
export function requireName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalid(`${what} must be 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return value;
}

export function requireKeyId(value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw invalid('key id must be a lowercase uuid');
  return value;
}

export function requireBytes(value: unknown, what: string, maxBytes: number, minBytes = 0): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`${what} must be bytes`);
  if (value.length < minBytes) throw invalid(`${what} must be at least ${minBytes} bytes`);
  if (value.length > maxBytes) throw new CofferError('INPUT_TOO_LARGE', `${what} must be at most ${maxBytes} bytes`);
  return value;
}

export function requireInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${what} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function optionalString(value: unknown, what: string, maxLength: number): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > maxLength) throw invalid(`${what} must be a string of at most ${maxLength} characters`);
  return value;
}

export function optionalBoolean(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${what} must be true or false`);
  return value;
}

const MAX_TAGS = 50;

/** Tags: at most 50, keys 1–128 and values 0–256 characters. */
export function requireTags(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('tags must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_TAGS) throw invalid(`at most ${MAX_TAGS} tags`);
  const tags: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 128 || typeof v !== 'string' || v.length > 256) {
      throw invalid('tag keys must be 1-128 characters and values strings of at most 256');
    }
    tags[k] = v;
  }
  return tags;
}

const MAX_CONTEXT_PAIRS = 64;

/**
 * Canonical bytes of an encryption context: pairs sorted by key and JSON-encoded, so the same
 * context always binds to the same associated data whatever the order the caller used.
 */
export function canonicalContext(value: unknown): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('encryption context must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_CONTEXT_PAIRS) throw invalid(`encryption context holds at most ${MAX_CONTEXT_PAIRS} pairs`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 256 || typeof v !== 'string' || v.length > 1024) {
      throw invalid('encryption context keys must be 1-256 characters and values strings of at most 1024');
    }
  }
  if (entries.length === 0) return Buffer.alloc(0);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}
