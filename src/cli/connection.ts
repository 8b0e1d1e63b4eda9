// The connection options every node-facing command takes, each with a COFFER_* environment fallback.
import type { ParseArgsOptionsConfig } from 'node:util';
import { CofferClient } from '../client/index.ts';
import type { Args } from './args.ts';
import { UsageError } from './command.ts';

export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  node: { type: 'string', multiple: true },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  token: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const CONNECTION_HELP = `connection (each falls back to its environment variable):
  --url URL      the node's API, e.g. https://localhost:8443   (COFFER_URL)
  --node URL     a cluster seed node; repeat it for more       (COFFER_NODES, comma-separated)
                 (live nodes are discovered, requests spread and failed over)
  --ca FILE      CA certificate that issued the node's          (COFFER_CA)
  --cert FILE    client certificate for mutual TLS              (COFFER_CERT)
  --key FILE     its private key                                (COFFER_KEY)
  --token TOKEN  bearer token from \`coffer login\`               (COFFER_TOKEN)`;

type Env = Readonly<Record<string, string | undefined>>;

/** An option, else its environment variable; an empty value counts as none. */
export function pick(args: Args, option: string, env: Env, variable: string): string | undefined {
  const value = args.string(option) ?? env[variable];
  return value === '' ? undefined : value;
}

/** Seed nodes: every `--node`, else COFFER_NODES split at commas (blanks ignored). */
export function nodesFrom(args: Args, env: Env = process.env): string[] {
  const given = args.strings('node');
  const listed = given.length > 0 ? given : (env['COFFER_NODES'] ?? '').split(',');
  return listed.map((url) => url.trim()).filter((url) => url !== '');
}

export function clientFrom(args: Args, env: Env = process.env): CofferClient {
  const url = pick(args, 'url', env, 'COFFER_URL');
  const nodes = nodesFrom(args, env);
  if (url === undefined && nodes.length === 0) throw new UsageError('no node to talk to: pass --url or --node, or set COFFER_URL or COFFER_NODES');
  const ca = pick(args, 'ca', env, 'COFFER_CA');
  const cert = pick(args, 'cert', env, 'COFFER_CERT');
  const key = pick(args, 'key', env, 'COFFER_KEY');
  const token = pick(args, 'token', env, 'COFFER_TOKEN');
  return new CofferClient({
    // --url (if any) is the first seed: domain and key-use commands, and a token, go to it.
    ...(url === undefined ? {} : { url }),
    ...(nodes.length === 0 ? {} : { nodes }),
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(token === undefined ? {} : { token }),
  });
}
