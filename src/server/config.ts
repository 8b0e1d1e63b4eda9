// Node configuration: one JSON file plus COFFER_* environment overrides, checked once at start
// (unknown keys are errors, TLS files must be readable), frozen and passed down.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseJoinConfig, type JoinConfig } from '../cluster/attestation/index.ts';
import { CofferError } from '../core/errors.ts';
import { NAME_PATTERN } from './identity/identity-validation.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

export interface ServerConfig {
  /** Node-local files: the SQLite store and the audit journal. No default: data placement is a decision. */
  readonly dataDir: string;
  /** Written into every audit entry; defaults to the host name. */
  readonly nodeId: string;
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly tls: {
      readonly certFile: string;
      readonly keyFile: string;
      /** CA bundle that issues client certificates (mutual TLS). */
      readonly clientCaFile: string;
      readonly minVersion: TlsVersion;
    };
  };
  readonly health: { readonly host: string; readonly port: number };
  readonly limits: {
    readonly bodyBytes: number;
    readonly batchBodyBytes: number;
    readonly batchConcurrency: number;
    readonly requestTimeoutMs: number;
  };
  readonly auth: { readonly tokenTtlSeconds: number; readonly loginFailuresPerMinute: number };
  readonly log: { readonly level: LogLevel };
  /** sqlite: `coffer.db` in dataDir (one node). postgres: a store shared by the nodes of a cluster. */
  readonly store: StoreConfig;
  readonly cluster: ClusterConfig;
  /** Scheduled backups (src/cluster/backup); the directory also serves /v1/backups. */
  readonly backup: BackupConfig;
}

export interface BackupConfig {
  /** Default: `backups/` in dataDir. */
  readonly dir: string;
  /** 0 turns scheduled backups off (manual ones still work). */
  readonly intervalHours: number;
  readonly retention: { readonly count: number; readonly maxAgeDays: number };
}

export type StoreConfig =
  | { readonly backend: 'sqlite' }
  | { readonly backend: 'postgres'; readonly url: string; readonly poolSize?: number };

export interface ClusterConfig {
  /** The API address other nodes and clients use; derived from api.host/port when absent. */
  readonly advertiseUrl?: string;
  readonly heartbeatSeconds: number;
  /** A node whose heartbeat is older is not listed as live. Must exceed heartbeatSeconds. */
  readonly deadAfterSeconds: number;
  /**
   * How this node, while unsealed, admits joining nodes (src/cluster/attestation). Default: join
   * tokens, which admit no one until an officer issues a token. Absent (`"join": false`): this node
   * answers no join request. Give every admitting node the same provider: a node refuses a request
   * made for another provider.
   */
  readonly join?: JoinConfig;
  /**
   * Certificates for nodes this node admits (src/server/join-wiring.ts): the built-in CA issues one for
   * the joiner's CSR naming its node name and what was attested. Absent: joiners get none.
   */
  readonly nodeCertificates?: NodeCertificatesConfig;
}

export interface NodeCertificatesConfig {
  /** The issuing CA: its id (uuid) or project/name. */
  readonly ca: string;
  /** The principal the admitting node issues as: it must be able to use the CA's key (owner or shared). */
  readonly issuer: string;
  readonly validityDays: number;
}

export const STORE_BACKENDS = ['sqlite', 'postgres'] as const;

export const CONFIG_DEFAULTS = {
  apiHost: '127.0.0.1',
  apiPort: 8443,
  healthHost: '127.0.0.1',
  healthPort: 8081,
  /**
   * 256 KiB per ordinary request: management bodies are a few hundred bytes, and a single crypto
   * call stays small because large data belongs in envelope encryption (data keys) or digest
   * signing. Parsing costs about three times the body in memory, so this bounds a request to ~1 MiB.
   */
  bodyBytes: 256 * 1024,
  /** 4 MiB per batch: 1,000 items of about 3 KiB of base64 each, still a bounded ~12 MiB to parse. */
  batchBodyBytes: 4 * 1024 * 1024,
  /** Items of one batch in flight at once: enough to fill audit group commits, not to starve others. */
  batchConcurrency: 16,
  requestTimeoutMs: 30_000,
  tokenTtlSeconds: 900,
  loginFailuresPerMinute: 5,
  logLevel: 'info' as LogLevel,
  tlsMinVersion: 'TLSv1.2' as TlsVersion,
  heartbeatSeconds: 5,
  deadAfterSeconds: 15,
  /** Join tokens: nothing is admitted until an officer issues a token, so it is safe to have on. */
  join: { provider: 'join-token' },
  /** Node certificates: a month, so a node that left the cluster stops being named for long. */
  nodeCertificateDays: 30,
  /** Scheduled backups: daily, keeping the newest 7 and none older than 30 days (CloudHSM's daily backups). */
  backupIntervalHours: 24,
  backupRetentionCount: 7,
  backupRetentionMaxAgeDays: 30,
} as const;

/** Environment variables that override one config key each (they win over the file). */
export const ENV_OVERRIDES = {
  COFFER_DATA_DIR: { path: ['dataDir'], kind: 'path' },
  COFFER_NODE_ID: { path: ['nodeId'], kind: 'string' },
  COFFER_API_HOST: { path: ['api', 'host'], kind: 'string' },
  COFFER_API_PORT: { path: ['api', 'port'], kind: 'integer' },
  COFFER_HEALTH_HOST: { path: ['health', 'host'], kind: 'string' },
  COFFER_HEALTH_PORT: { path: ['health', 'port'], kind: 'integer' },
  COFFER_TLS_CERT: { path: ['api', 'tls', 'certFile'], kind: 'path' },
  COFFER_TLS_KEY: { path: ['api', 'tls', 'keyFile'], kind: 'path' },
  COFFER_TLS_CLIENT_CA: { path: ['api', 'tls', 'clientCaFile'], kind: 'path' },
  COFFER_TOKEN_TTL_SECONDS: { path: ['auth', 'tokenTtlSeconds'], kind: 'integer' },
  COFFER_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  // Selects the postgres backend: the variable keeps the password out of the config file.
  COFFER_STORE_URL: { path: ['store', 'url'], kind: 'string' },
  COFFER_ADVERTISE_URL: { path: ['cluster', 'advertiseUrl'], kind: 'string' },
} as const satisfies Record<string, { path: readonly string[]; kind: 'string' | 'integer' | 'path' }>;

type Json = Record<string, unknown>;

function bad(path: string, message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `config ${path}: ${message}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one object level: every key must be known, so a typo is an error rather than a silent default. */
function section(parent: Json, key: string, path: string, allowed: readonly string[]): Json {
  const value = parent[key];
  if (value === undefined) return {};
  const where = path === '' ? key : `${path}.${key}`;
  if (!isObject(value)) throw bad(where, 'must be an object');
  for (const k of Object.keys(value)) if (!allowed.includes(k)) throw bad(`${where}.${k}`, 'unknown key');
  return value;
}

function integer(obj: Json, key: string, path: string, min: number, max: number, fallback: number): number {
  const value = obj[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw bad(`${path}.${key}`, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function text(obj: Json, key: string, path: string, fallback?: string): string {
  const value = obj[key] ?? fallback;
  const where = path === '' ? key : `${path}.${key}`;
  if (value === undefined) throw bad(where, 'is required');
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) throw bad(where, 'must be a non-empty string');
  return value;
}

function oneOf<T extends string>(obj: Json, key: string, path: string, values: readonly T[], fallback: T): T {
  const value = obj[key] ?? fallback;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) throw bad(`${path}.${key}`, `must be one of ${values.join(', ')}`);
  return value as T;
}

/** A file the node must read before it listens: a missing or unreadable one stops the start. */
function readableFile(obj: Json, key: string, path: string, baseDir: string): string {
  const file = resolve(baseDir, text(obj, key, path));
  try {
    accessSync(file, constants.R_OK);
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch {
    throw bad(`${path}.${key}`, `cannot read ${file}`);
  }
  return file;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Applies COFFER_* variables to a copy of the raw file contents; paths resolve against the cwd. */
function withEnvironment(raw: Json, env: Readonly<Record<string, string | undefined>>): Json {
  const copy = structuredClone(raw);
  for (const [name, { path, kind }] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let target = copy;
    for (const segment of path.slice(0, -1)) {
      const next = target[segment];
      if (next !== undefined && !isObject(next)) throw bad(segment, 'must be an object');
      target = next ?? (target[segment] = {});
    }
    const leaf = path.at(-1) ?? '';
    if (kind === 'integer') {
      if (!/^[0-9]{1,10}$/.test(value)) throw new CofferError('INVALID_ARGUMENT', `environment ${name} must be an integer`);
      target[leaf] = Number(value);
    } else {
      target[leaf] = kind === 'path' ? resolve(value) : value;
    }
    if (name === 'COFFER_STORE_URL') target['backend'] = 'postgres';
  }
  return copy;
}

/** A PostgreSQL connection URL; it may hold a password, so no message ever repeats it. */
function postgresUrl(obj: Json, path: string): string {
  const value = text(obj, 'url', path);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(`${path}.url`, 'must be a postgres:// or postgresql:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw bad(`${path}.url`, 'must be a postgres:// or postgresql:// URL');
  return value;
}

function storeSection(root: Json): StoreConfig {
  const store = section(root, 'store', '', ['backend', 'url', 'poolSize']);
  const backend = oneOf(store, 'backend', 'store', STORE_BACKENDS, 'sqlite');
  if (backend === 'sqlite') {
    for (const k of ['url', 'poolSize']) if (store[k] !== undefined) throw bad(`store.${k}`, 'applies to the postgres backend only');
    return { backend };
  }
  const url = postgresUrl(store, 'store');
  return store['poolSize'] === undefined ? { backend, url } : { backend, url, poolSize: integer(store, 'poolSize', 'store', 1, 1000, 10) };
}

/** `cluster.join`: absent → join tokens (safe: only an officer's token admits); false → none. */
function joinSection(cluster: Json, baseDir: string): { join?: JoinConfig } {
  const raw = cluster['join'];
  if (raw === false) return {};
  return { join: parseJoinConfig(raw === undefined ? CONFIG_DEFAULTS.join : raw, { baseDir, path: 'cluster.join' }) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The PKI's rule for a CA's name (src/pki/pki-service.ts), so a typo stops the start, not every join. */
const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `cluster.nodeCertificates`: absent → admitted nodes get no certificate. */
function nodeCertificatesSection(cluster: Json): { nodeCertificates?: NodeCertificatesConfig } {
  if (cluster['nodeCertificates'] === undefined) return {};
  const where = 'cluster.nodeCertificates';
  const certificates = section(cluster, 'nodeCertificates', 'cluster', ['ca', 'issuer', 'validityDays']);
  const ca = text(certificates, 'ca', where);
  const [project = '', name = '', ...rest] = ca.split('/');
  if (!UUID.test(ca) && (rest.length > 0 || !NAME_PATTERN.test(project) || !CA_NAME.test(name))) {
    throw bad(`${where}.ca`, 'must be a CA id (uuid) or project/name');
  }
  const issuer = text(certificates, 'issuer', where);
  if (!NAME_PATTERN.test(issuer)) throw bad(`${where}.issuer`, 'must be a principal name');
  // 397 days: the CA/Browser Forum's ceiling for a TLS server certificate.
  const validityDays = integer(certificates, 'validityDays', where, 1, 397, CONFIG_DEFAULTS.nodeCertificateDays);
  return { nodeCertificates: { ca, issuer, validityDays } };
}

function clusterSection(root: Json, baseDir: string): ClusterConfig {
  const cluster = section(root, 'cluster', '', ['advertiseUrl', 'heartbeatSeconds', 'deadAfterSeconds', 'join', 'nodeCertificates']);
  const heartbeatSeconds = integer(cluster, 'heartbeatSeconds', 'cluster', 1, 3600, CONFIG_DEFAULTS.heartbeatSeconds);
  const deadAfterSeconds = integer(cluster, 'deadAfterSeconds', 'cluster', 2, 86_400, Math.max(CONFIG_DEFAULTS.deadAfterSeconds, 3 * heartbeatSeconds));
  if (deadAfterSeconds <= heartbeatSeconds) throw bad('cluster.deadAfterSeconds', 'must be greater than heartbeatSeconds');
  const join = { ...joinSection(cluster, baseDir), ...nodeCertificatesSection(cluster) };
  if (cluster['advertiseUrl'] === undefined) return { heartbeatSeconds, deadAfterSeconds, ...join };
  const advertiseUrl = text(cluster, 'advertiseUrl', 'cluster');
  let url: URL | undefined;
  try {
    url = new URL(advertiseUrl);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || advertiseUrl.length > 2048) {
    throw bad('cluster.advertiseUrl', 'must be an https:// URL without credentials, query or fragment');
  }
  return { advertiseUrl: advertiseUrl.replace(/\/+$/, ''), heartbeatSeconds, deadAfterSeconds, ...join };
}

function backupSection(root: Json, baseDir: string, dataDir: string): BackupConfig {
  const backup = section(root, 'backup', '', ['dir', 'intervalHours', 'retention']);
  const retention = section(backup, 'retention', 'backup', ['count', 'maxAgeDays']);
  return {
    dir: backup['dir'] === undefined ? resolve(dataDir, 'backups') : resolve(baseDir, text(backup, 'dir', 'backup')),
    intervalHours: integer(backup, 'intervalHours', 'backup', 0, 24 * 366, CONFIG_DEFAULTS.backupIntervalHours),
    retention: {
      count: integer(retention, 'count', 'backup.retention', 1, 10_000, CONFIG_DEFAULTS.backupRetentionCount),
      maxAgeDays: integer(retention, 'maxAgeDays', 'backup.retention', 1, 36_600, CONFIG_DEFAULTS.backupRetentionMaxAgeDays),
    },
  };
}

/**
 * Checks raw configuration (the parsed file) with environment overrides applied. Relative paths in
 * the file resolve against `baseDir` (the file's directory). Any problem → INVALID_ARGUMENT naming
 * the key. The result is deeply frozen.
 */
export function parseConfig(raw: unknown, options: { baseDir?: string; env?: Readonly<Record<string, string | undefined>> } = {}): ServerConfig {
  if (!isObject(raw)) throw bad('(root)', 'must be a JSON object');
  const baseDir = options.baseDir ?? process.cwd();
  const root = withEnvironment(raw, options.env ?? {});
  const top = ['dataDir', 'nodeId', 'api', 'health', 'limits', 'auth', 'log', 'store', 'cluster', 'backup'];
  for (const k of Object.keys(root)) if (!top.includes(k)) throw bad(k, 'unknown key');
  const api = section(root, 'api', '', ['host', 'port', 'tls']);
  const tls = section(api, 'tls', 'api', ['certFile', 'keyFile', 'clientCaFile', 'minVersion']);
  const health = section(root, 'health', '', ['host', 'port']);
  const limits = section(root, 'limits', '', ['bodyBytes', 'batchBodyBytes', 'batchConcurrency', 'requestTimeoutMs']);
  const auth = section(root, 'auth', '', ['tokenTtlSeconds', 'loginFailuresPerMinute']);
  const log = section(root, 'log', '', ['level']);

  const nodeId = text(root, 'nodeId', '', hostname());
  if (!NODE_ID.test(nodeId)) throw bad('nodeId', "must be 1-64 of letters, digits, '.', '_' or '-'");
  const config: ServerConfig = {
    dataDir: resolve(baseDir, text(root, 'dataDir', '')),
    nodeId,
    api: {
      host: text(api, 'host', 'api', CONFIG_DEFAULTS.apiHost),
      port: integer(api, 'port', 'api', 0, 65_535, CONFIG_DEFAULTS.apiPort),
      tls: {
        certFile: readableFile(tls, 'certFile', 'api.tls', baseDir),
        keyFile: readableFile(tls, 'keyFile', 'api.tls', baseDir),
        clientCaFile: readableFile(tls, 'clientCaFile', 'api.tls', baseDir),
        minVersion: oneOf(tls, 'minVersion', 'api.tls', TLS_VERSIONS, CONFIG_DEFAULTS.tlsMinVersion),
      },
    },
    health: {
      host: text(health, 'host', 'health', CONFIG_DEFAULTS.healthHost),
      port: integer(health, 'port', 'health', 0, 65_535, CONFIG_DEFAULTS.healthPort),
    },
    limits: {
      bodyBytes: integer(limits, 'bodyBytes', 'limits', 1024, 64 * 1024 * 1024, CONFIG_DEFAULTS.bodyBytes),
      batchBodyBytes: integer(limits, 'batchBodyBytes', 'limits', 1024, 64 * 1024 * 1024, CONFIG_DEFAULTS.batchBodyBytes),
      batchConcurrency: integer(limits, 'batchConcurrency', 'limits', 1, 256, CONFIG_DEFAULTS.batchConcurrency),
      requestTimeoutMs: integer(limits, 'requestTimeoutMs', 'limits', 1000, 3_600_000, CONFIG_DEFAULTS.requestTimeoutMs),
    },
    auth: {
      tokenTtlSeconds: integer(auth, 'tokenTtlSeconds', 'auth', 60, 86_400, CONFIG_DEFAULTS.tokenTtlSeconds),
      loginFailuresPerMinute: integer(auth, 'loginFailuresPerMinute', 'auth', 1, 1000, CONFIG_DEFAULTS.loginFailuresPerMinute),
    },
    log: { level: oneOf(log, 'level', 'log', LOG_LEVELS, CONFIG_DEFAULTS.logLevel) },
    store: storeSection(root),
    cluster: clusterSection(root, baseDir),
    backup: backupSection(root, baseDir, resolve(baseDir, text(root, 'dataDir', ''))),
  };
  return deepFreeze(config);
}

/** Reads and checks the config file (or only the environment when `path` is undefined). */
export function loadConfig(path: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  if (path === undefined) return parseConfig({}, { env });
  const file = isAbsolute(path) ? path : resolve(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `config file ${file} cannot be read as JSON`, { cause: error });
  }
  return parseConfig(raw, { baseDir: dirname(file), env });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
