// The signing service's configuration (`coffer signer --config FILE`), checked strictly: unknown keys
// and bad values are INVALID_ARGUMENT naming the key. A few COFFER_SIGNER_* variables override it.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { CofferError } from '../../core/errors.ts';
import { PRINCIPAL } from './project-store.ts';

export interface SignerConfig {
  /** Written into audit entries and statistics; defaults to the host name. */
  readonly nodeId: string;
  /** The signer's own directory: its database, uploads, signed outputs and audit journal. */
  readonly dataDir: string;
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly tls: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile: string };
  };
  /** How the signer reaches Coffer, as its own service principal (mutual TLS). */
  readonly coffer: { readonly url?: string; readonly nodes?: readonly string[]; readonly ca?: string; readonly cert: string; readonly key: string };
  readonly admins: readonly string[];
  readonly auditors: readonly string[];
  readonly jobs: { readonly concurrency: number; readonly approvalExpiresInSeconds?: number };
  readonly uploads: { readonly maxBytes: number; readonly ttlHours: number };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' };
}

export const SIGNER_DEFAULTS = { host: '127.0.0.1', port: 8444, concurrency: 4, maxBytes: 32 * 1024 ** 3, ttlHours: 24, level: 'warn' } as const;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug'] as const;

type Json = Record<string, unknown>;
type Env = Readonly<Record<string, string | undefined>>;

function bad(key: string, message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `config ${key}: ${message}`);
}

function section(parent: Json, key: string, path: string, allowed: readonly string[], required = false): Json {
  const value = parent[key];
  if (value === undefined) {
    if (required) throw bad(`${path}${key}`, 'is required');
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${path}${key}`, 'must be an object');
  for (const name of Object.keys(value)) if (!allowed.includes(name)) throw bad(`${path}${key}.${name}`, 'unknown key');
  return value as Json;
}

function text(parent: Json, key: string, path: string, fallback?: string): string {
  const value = parent[key] ?? fallback;
  if (typeof value !== 'string' || value === '') throw bad(`${path}${key}`, 'must be a non-empty string');
  return value;
}

function optionalText(parent: Json, key: string, path: string): string | undefined {
  return parent[key] === undefined ? undefined : text(parent, key, path);
}

function integer(parent: Json, key: string, path: string, fallback: number, min: number, max: number): number {
  const value = parent[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw bad(`${path}${key}`, `must be a whole number from ${min} to ${max}`);
  return value;
}

function principals(parent: Json, key: string): string[] {
  const value = parent[key] ?? [];
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || !PRINCIPAL.test(name))) throw bad(key, 'must be a list of principal names');
  return value as string[];
}

/** A configuration from its JSON, paths resolved against `base`, with COFFER_SIGNER_* overrides from `env`. */
export function parseSignerConfig(raw: unknown, options: { env?: Env; base?: string } = {}): SignerConfig {
  const env = options.env ?? {};
  const base = options.base ?? process.cwd();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('(root)', 'must be a JSON object');
  const root = raw as Json;
  for (const name of Object.keys(root)) {
    if (!['nodeId', 'dataDir', 'api', 'coffer', 'admins', 'auditors', 'jobs', 'uploads', 'log'].includes(name)) throw bad(name, 'unknown key');
  }
  const api = section(root, 'api', '', ['host', 'port', 'tls'], true);
  const tls = section(api, 'tls', 'api.', ['certFile', 'keyFile', 'clientCaFile'], true);
  const coffer = section(root, 'coffer', '', ['url', 'nodes', 'ca', 'cert', 'key'], true);
  const jobs = section(root, 'jobs', '', ['concurrency', 'approvalExpiresInSeconds']);
  const uploads = section(root, 'uploads', '', ['maxBytes', 'ttlHours']);
  const log = section(root, 'log', '', ['level']);
  const level = env['COFFER_SIGNER_LOG_LEVEL'] ?? log['level'] ?? SIGNER_DEFAULTS.level;
  if (!LEVELS.includes(level as SignerConfig['log']['level'])) throw bad('log.level', `must be one of ${LEVELS.join(', ')}`);
  const port = env['COFFER_SIGNER_PORT'] === undefined ? integer(api, 'port', 'api.', SIGNER_DEFAULTS.port, 0, 65_535) : Number(env['COFFER_SIGNER_PORT']);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) throw bad('COFFER_SIGNER_PORT', 'must be a port number');
  const nodes = coffer['nodes'];
  if (nodes !== undefined && (!Array.isArray(nodes) || nodes.some((url) => typeof url !== 'string'))) throw bad('coffer.nodes', 'must be a list of URLs');
  const url = optionalText(coffer, 'url', 'coffer.');
  if (url === undefined && (nodes === undefined || nodes.length === 0)) throw bad('coffer', 'needs url or nodes');
  const ca = optionalText(coffer, 'ca', 'coffer.');
  const approvalExpires = jobs['approvalExpiresInSeconds'] === undefined ? undefined : integer(jobs, 'approvalExpiresInSeconds', 'jobs.', 3600, 60, 86_400);
  const path = (value: string): string => resolve(base, value);
  return {
    nodeId: text(root, 'nodeId', '', hostname()),
    dataDir: path(env['COFFER_SIGNER_DATA_DIR'] ?? text(root, 'dataDir', '')),
    api: {
      host: env['COFFER_SIGNER_HOST'] ?? text(api, 'host', 'api.', SIGNER_DEFAULTS.host),
      port,
      tls: { certFile: path(text(tls, 'certFile', 'api.tls.')), keyFile: path(text(tls, 'keyFile', 'api.tls.')), clientCaFile: path(text(tls, 'clientCaFile', 'api.tls.')) },
    },
    coffer: {
      ...(url === undefined ? {} : { url }), ...(nodes === undefined ? {} : { nodes: nodes as string[] }), ...(ca === undefined ? {} : { ca: path(ca) }),
      cert: path(text(coffer, 'cert', 'coffer.')), key: path(text(coffer, 'key', 'coffer.')),
    },
    admins: principals(root, 'admins'),
    auditors: principals(root, 'auditors'),
    jobs: { concurrency: integer(jobs, 'concurrency', 'jobs.', SIGNER_DEFAULTS.concurrency, 1, 64), ...(approvalExpires === undefined ? {} : { approvalExpiresInSeconds: approvalExpires }) },
    uploads: { maxBytes: integer(uploads, 'maxBytes', 'uploads.', SIGNER_DEFAULTS.maxBytes, 1, 2 ** 50), ttlHours: integer(uploads, 'ttlHours', 'uploads.', SIGNER_DEFAULTS.ttlHours, 1, 24 * 30) },
    log: { level: level as SignerConfig['log']['level'] },
  };
}

export function loadSignerConfig(file: string, env: Env = process.env): SignerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `cannot read the signer configuration ${file}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `the signer configuration ${file} is not JSON`, { cause: error });
  }
  return parseSignerConfig(raw, { env, base: resolve(file, '..') });
}
