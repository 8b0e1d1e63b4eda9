// proto3 JSON (the mapping VSSM's jsonpb speaks) at the edge: message shapes that yield both the
// request schema and the typed decoding; field names in lowerCamelCase or as in the .proto; bytes
// as base64 (standard or URL-safe, padding optional); 64-bit integers as JSON numbers or strings.
import { CofferError } from '../../core/errors.ts';

export type ScalarKind = 'bytes' | 'string' | 'int64' | 'uint64' | 'bool';

/** A proto3 message: field name (lowerCamelCase) → scalar kind or nested message. */
export interface MessageShape {
  readonly [field: string]: ScalarKind | MessageShape;
}

type FieldValue<K> = K extends 'bytes' ? Buffer
  : K extends 'string' ? string
    : K extends 'int64' | 'uint64' ? number
      : K extends 'bool' ? boolean
        : K extends MessageShape ? Decoded<K> | undefined
          : never;

/** A decoded message: every field present, absent ones at their proto3 default (nested: undefined). */
export type Decoded<S extends MessageShape> = { readonly [F in keyof S]: FieldValue<S[F]> };

/** Characters of either base64 alphabet with optional padding; the decoder checks the structure. */
const BASE64_CHARACTERS = '^[A-Za-z0-9+/_-]*={0,2}$';
/** Strings are bounded: the longest legitimate one is an admin password (1024, the directory's limit). */
const MAX_STRING = 1024;
/** Digits of a 64-bit integer as a JSON string (proto3 JSON's canonical form for int64). */
const INT64_TEXT = '^-?[0-9]{1,20}$';
const UINT64_TEXT = '^[0-9]{1,20}$';

function scalarSchema(kind: ScalarKind): Record<string, unknown> {
  switch (kind) {
    case 'bytes': return { type: 'string', pattern: BASE64_CHARACTERS, description: 'base64 (standard or URL-safe)' };
    case 'string': return { type: 'string', maxLength: MAX_STRING };
    case 'bool': return { type: 'boolean' };
    case 'int64': return { anyOf: [{ type: 'integer' }, { type: 'string', pattern: INT64_TEXT }], description: '64-bit integer, as a number or a string' };
    case 'uint64': return { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: UINT64_TEXT }], description: 'unsigned 64-bit integer, as a number or a string' };
  }
}

/** The request schema: every field optional (proto3), unknown fields refused. */
export function messageSchema(shape: MessageShape): Record<string, unknown> {
  const properties = Object.fromEntries(Object.entries(shape).map(([name, kind]) => [name, typeof kind === 'string' ? scalarSchema(kind) : messageSchema(kind)]));
  return { type: 'object', additionalProperties: false, properties };
}

function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * proto3 JSON's parser rules that a JSON schema cannot express: a field may be named as in the
 * .proto (key_name) or in lowerCamelCase (keyName), but not both; null means the default. Anything
 * that is not an object, or a name that is neither, is left for the schema to refuse.
 */
export function normaliseFieldNames(shape: MessageShape, body: unknown): unknown {
  if (!isPlainObject(body)) return body;
  const entries: [string, unknown][] = [];
  const seen = new Set<string>();
  for (const [given, value] of Object.entries(body)) {
    const camel = snakeToCamel(given);
    const name = Object.hasOwn(shape, given) ? given : Object.hasOwn(shape, camel) ? camel : given;
    if (seen.has(name)) throw new CofferError('MALFORMED_REQUEST', `body.${name}: given twice (as proto and JSON names)`);
    seen.add(name);
    if (value === null) continue;
    const kind = Object.hasOwn(shape, name) ? shape[name] : undefined;
    entries.push([name, kind !== undefined && typeof kind !== 'string' ? normaliseFieldNames(kind, value) : value]);
  }
  // fromEntries defines own properties, so even a "__proto__" field stays data for the schema to refuse.
  return Object.fromEntries(entries);
}

function invalidBase64(field: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `${field} must be base64`);
}

/**
 * Decodes a proto3 JSON bytes field: either alphabet (not mixed), padding absent or complete, and
 * canonical (no stray bits in the last quantum), so one text means one byte string.
 */
export function decodeProtoBytes(value: string, field: string): Buffer {
  const urlSafe = /[-_]/.test(value);
  if (urlSafe && /[+/]/.test(value)) throw invalidBase64(field);
  const bare = value.replace(/=+$/, '');
  if (bare.length % 4 === 1) throw invalidBase64(field);
  if (bare.length !== value.length && value.length % 4 !== 0) throw invalidBase64(field);
  const encoding = urlSafe ? 'base64url' : 'base64';
  const bytes = Buffer.from(bare, encoding);
  if (bytes.toString(encoding).replace(/=+$/, '') !== bare) throw invalidBase64(field);
  return bytes;
}

/** proto3 JSON writes bytes as standard base64 with padding. */
export function encodeProtoBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** proto3 JSON writes 64-bit integers as strings (JavaScript numbers lose precision past 2^53). */
export function encodeProtoInt64(value: number): string {
  return String(value);
}

function decodeInteger(value: unknown, field: string): number {
  const number = typeof value === 'string' ? Number(value) : value;
  // The schema admitted an integer or a digit string; beyond 2^53 a number would silently round.
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw new CofferError('INVALID_ARGUMENT', `${field} is out of range`);
  return number;
}

function defaultOf(kind: ScalarKind): Buffer | string | number | boolean {
  switch (kind) {
    case 'bytes': return Buffer.alloc(0);
    case 'string': return '';
    case 'int64': case 'uint64': return 0;
    case 'bool': return false;
  }
}

function decodeScalar(kind: ScalarKind, value: unknown, field: string): Buffer | string | number | boolean {
  if (value === undefined) return defaultOf(kind);
  switch (kind) {
    case 'bytes': return decodeProtoBytes(value as string, field);
    case 'int64': case 'uint64': return decodeInteger(value, field);
    case 'string': case 'bool': return value as string | boolean;
  }
}

/** Decodes a body that has passed messageSchema(shape); absent fields take their proto3 defaults. */
export function decodeMessage<S extends MessageShape>(shape: S, body: unknown, path = ''): Decoded<S> {
  const source = isPlainObject(body) ? body : {};
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(shape)) {
    const value = source[name];
    const field = `${path}${name}`;
    out[name] = typeof kind === 'string' ? decodeScalar(kind, value, field) : value === undefined ? undefined : decodeMessage(kind, value, `${field}.`);
  }
  return out as Decoded<S>;
}
