// Readers for one field of a declarative check spec: each refuses a wrong type or range with
// INVALID_ARGUMENT naming the field's path (`checks[2].timeoutMs`), so a profile's author sees where.
import { CofferError } from '../../core/errors.ts';

export function invalidField(path: string, problem: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `${path}: ${problem}`);
}

/** A plain object whose keys are all in `allowed`; unknown keys are errors, not ignored. */
export function objectWithKeys(value: unknown, path: string, allowed: readonly string[]): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidField(path, 'must be an object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!allowed.includes(key)) throw invalidField(`${path}.${key}`, 'unknown key');
  return record;
}

export interface StringRule {
  readonly maxLength: number;
  readonly pattern?: RegExp;
}

export function stringField(value: unknown, path: string, rule: StringRule): string {
  if (typeof value !== 'string') throw invalidField(path, 'must be a string');
  if (value.length === 0 || value.length > rule.maxLength) throw invalidField(path, `must be 1 to ${String(rule.maxLength)} characters`);
  if (value.includes('\0')) throw invalidField(path, 'must not contain NUL');
  if (rule.pattern !== undefined && !rule.pattern.test(value)) throw invalidField(path, 'has a character that is not allowed');
  return value;
}

export function stringList(value: unknown, path: string, rule: StringRule & { readonly maxItems: number }): readonly string[] {
  if (!Array.isArray(value)) throw invalidField(path, 'must be an array of strings');
  if (value.length === 0 || value.length > rule.maxItems) throw invalidField(path, `must hold 1 to ${String(rule.maxItems)} items`);
  return Object.freeze(value.map((item, index) => stringField(item, `${path}[${String(index)}]`, rule)));
}

export function integerField(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalidField(path, 'must be an integer');
  if (value < min || value > max) throw invalidField(path, `must be between ${String(min)} and ${String(max)}`);
  return value;
}
