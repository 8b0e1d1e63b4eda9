// The `coffer` command: finds the command, parses its options (node:util parseArgs), runs it and
// turns failures into `coffer: CODE: message` with exit status 1 (2 for usage mistakes).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { isCofferError } from '../core/errors.ts';
import type { CofferClient } from '../client/index.ts';
import { Args } from './args.ts';
import { UsageError, type Command } from './command.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, clientFrom } from './connection.ts';
import { COMMANDS, GLOBAL_OPTIONS } from './command-table.ts';

function usage(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: coffer <command> [options]   (--help after a command for its options; --json for JSON output)\n\ncommands:\n${lines.join('\n')}\n\n${CONNECTION_HELP}\n`;
}

function commandUsage(command: Command): string {
  const connection = command.connects === false ? '' : `\n${CONNECTION_HELP}\n`;
  const details = command.details === undefined ? '' : `\n${command.details}\n`;
  return `usage: coffer ${command.name} ${command.synopsis}\n\n${command.summary}\n${details}${connection}`;
}

/** The command named by the first one or two words, and the arguments after its name. */
function find(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  const [first = '', second = ''] = argv;
  const two = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (two !== undefined) return { command: two, rest: argv.slice(2) };
  const one = COMMANDS.find((c) => c.name === first);
  return one === undefined ? undefined : { command: one, rest: argv.slice(1) };
}

async function main(argv: readonly string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(usage());
    return first === undefined ? 2 : 0;
  }
  const found = find(argv);
  if (found === undefined) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0) {
      process.stderr.write(`coffer: ${first} needs a subcommand\n\n${usage(group)}`);
      return 2;
    }
    throw new UsageError(`unknown command ${JSON.stringify(first)} (coffer help lists them)`);
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandUsage(command));
    return 0;
  }
  const options: ParseArgsOptionsConfig = { ...command.options, ...GLOBAL_OPTIONS, ...(command.connects === false ? {} : CONNECTION_OPTIONS) };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : 'bad arguments'} (coffer ${command.name} --help)`);
  }
  const args = new Args(parsed.values, parsed.positionals);
  let client: CofferClient | undefined;
  try {
    return (await command.run({ args, json: args.flag('json'), client: () => (client ??= clientFrom(args)) })) ?? 0;
  } finally {
    client?.close();
  }
}

// Everything this process creates (store, journal, keys, outputs) is for its owner only.
process.umask(0o077);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const code = isCofferError(error) ? error.code : 'INTERNAL_ERROR';
  const message = isCofferError(error) ? error.message : 'unexpected failure';
  console.error(`coffer: ${code}: ${message}`);
  if (!isCofferError(error)) console.error(error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
