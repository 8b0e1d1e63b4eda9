// Tests only: a command from the table, and its arguments parsed exactly as main.ts parses them.
import assert from 'node:assert/strict';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { isCofferError, type ErrorCode } from '../core/errors.ts';
import { Args } from './args.ts';
import type { Command } from './command.ts';
import { COMMANDS, GLOBAL_OPTIONS } from './command-table.ts';
import { CONNECTION_OPTIONS } from './connection.ts';

export function command(name: string): Command {
  const found = COMMANDS.find((c) => c.name === name);
  assert.ok(found !== undefined, name);
  return found;
}

/** The arguments after the command's name, parsed exactly as main.ts parses them. */
export function argsOf(name: string, argv: readonly string[]): Args {
  const options: ParseArgsOptionsConfig = { ...command(name).options, ...GLOBAL_OPTIONS, ...CONNECTION_OPTIONS };
  const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  return new Args(parsed.values, parsed.positionals);
}

export function throwsCode(run: () => unknown, code: ErrorCode): void {
  assert.throws(run, (error: unknown) => isCofferError(error, code));
}
