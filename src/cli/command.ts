// What a CLI command is: a name, its options for node:util parseArgs, and a run function that parses,
// makes one SDK call and formats. UsageError marks the caller's mistakes (exit status 2).
import type { ParseArgsOptionsConfig } from 'node:util';
import { CofferError } from '../core/errors.ts';
import type { CofferClient } from '../client/index.ts';
import type { Args } from './args.ts';

/** A mistake in the command line itself: printed like every error, but the exit status is 2. */
export class UsageError extends CofferError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'UsageError';
  }
}

export interface CommandContext {
  readonly args: Args;
  /** --json: machine-readable output instead of tables. */
  readonly json: boolean;
  /** The client for --url/--ca/--cert/--key/--token (or COFFER_*), made on first use. */
  readonly client: () => CofferClient;
}

export interface Command {
  /** One or two words: `dev`, `keys create`. */
  readonly name: string;
  /** The arguments after the name, for the usage line. */
  readonly synopsis: string;
  readonly summary: string;
  /** More for `coffer <command> --help` (accepted values, examples). */
  readonly details?: string;
  readonly options?: ParseArgsOptionsConfig;
  /** Whether the command talks to a node (adds the connection options). Default true. */
  readonly connects?: boolean;
  /** Exit status (0 when nothing is returned). */
  run(context: CommandContext): Promise<number | undefined>;
}
