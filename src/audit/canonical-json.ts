// Canonical JSON (RFC 8785, JCS) for the values an audit record can hold: the bytes that get hashed.

import { CofferError } from '../core/errors.ts';

/**
 * Serialises `value` with object keys sorted by UTF-16 code units and no whitespace (RFC 8785 §3.2).
 * Strings and numbers use ECMAScript's JSON serialisation, which is exactly what RFC 8785 §3.2.2
 * prescribes, so two encoders that agree on the value agree on the bytes.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // NaN and ±Infinity have no JSON form; JSON.stringify would silently write null.
      if (!Number.isFinite(value)) throw new CofferError('INVALID_ARGUMENT', 'a number in an audit record is not finite');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const member = record[key];
        if (member === undefined) continue;
        members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new CofferError('INVALID_ARGUMENT', 'an audit record holds a value that JSON cannot encode');
  }
}
