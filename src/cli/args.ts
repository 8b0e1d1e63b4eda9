// Typed reads of node:util parseArgs results; anything missing or malformed is a UsageError.
import { UsageError } from './command.ts';

type Value = string | boolean | (string | boolean)[] | undefined;

export class Args {
  readonly #values: Readonly<Record<string, Value>>;
  readonly positionals: readonly string[];

  constructor(values: Readonly<Record<string, Value>>, positionals: readonly string[]) {
    this.#values = values;
    this.positionals = positionals;
  }

  string(name: string): string | undefined {
    const value = this.#values[name];
    return typeof value === 'string' ? value : undefined;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
    return value;
  }

  strings(name: string): string[] {
    const value = this.#values[name];
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  }

  flag(name: string): boolean {
    return this.#values[name] === true;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    return parseInteger(value, `--${name}`, min, max);
  }

  /** Repeated `--name k=v` as a map. */
  map(name: string): Record<string, string> | undefined {
    const pairs = this.strings(name);
    if (pairs.length === 0) return undefined;
    const map: Record<string, string> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--${name} takes key=value, not ${JSON.stringify(pair)}`);
      map[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return map;
  }

  positional(index: number, what: string): string {
    const value = this.positionals[index];
    if (value === undefined) throw new UsageError(`missing ${what}`);
    return value;
  }
}

export function parseInteger(value: string, what: string, min: number, max: number): number {
  const parsed = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw new UsageError(`${what} must be an integer from ${min} to ${max}`);
  return parsed;
}
