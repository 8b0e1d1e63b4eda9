// CofferClient: the typed SDK over the native API (docs/api.md) of one node or a cluster, grouped as
// the API is: domain, auth, principals, projects, keys, crypto, quorum, keyUse, cluster, backups, pki, tsa.
import { CofferError } from '../core/errors.ts';
import { AuthApi, PrincipalApi, ProjectApi } from './identity-api.ts';
import { BackupApi } from './backup-api.ts';
import { CryptoApi } from './crypto-api.ts';
import { DomainApi } from './domain-api.ts';
import { ClusterApi } from './cluster-api.ts';
import { ClusterTransport } from './cluster-transport.ts';
import { normaliseUrl } from './node-pool.ts';
import { KeyApi } from './key-api.ts';
import { KeyUseApi } from './key-use-api.ts';
import { PkiApi } from './pki-api.ts';
import { QuorumApi } from './quorum-api.ts';
import { TsaApi } from './tsa-api.ts';
import { checkClientIdentity, loadPem, type PemSource } from './credentials.ts';

export interface CofferClientOptions {
  /** One node's API, e.g. https://localhost:8443 (alone: that node only, no discovery). */
  readonly url?: string;
  /**
   * Seed nodes of a cluster: the client discovers the live nodes from them (GET /v1/cluster/nodes),
   * spreads requests, and retries on another node. The seeds stay the fallback.
   */
  readonly nodes?: readonly string[];
  /** Ask for the live nodes (default: with `nodes`, yes; with `url` alone, no). */
  readonly discovery?: boolean;
  /** CA that issued the node's certificate (PEM text or a file path); default: the system store. */
  readonly ca?: PemSource;
  /** Client certificate and its key for mutual TLS (PEM text or file paths). */
  readonly cert?: PemSource;
  readonly key?: PemSource;
  /** A bearer token from login, instead of (or besides) a client certificate. */
  readonly token?: string;
  /** Deadline for one request, connection included (default 30 s). */
  readonly timeoutMs?: number;
  /** Attempts per call on failure, the first included (default 3; 1 turns retries off). */
  readonly maxAttempts?: number;
  /** How long a node that failed is skipped (default 5 s). */
  readonly breakerMs?: number;
  /** How often the live node list is asked for again (default 10 s). */
  readonly refreshMs?: number;
}

/** A request that takes longer than this is waiting on something that will not come. */
export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_ATTEMPTS = 3;
/** Long enough for a restarting node to stop answering, short enough to notice it is back. */
const DEFAULT_BREAKER_MS = 5_000;
const DEFAULT_REFRESH_MS = 10_000;

function seedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `not a URL: ${JSON.stringify(text.slice(0, 200))}`, { cause: error });
  }
  // The API is only ever served over TLS: a plain-http URL is a mistake, not a choice.
  if (url.protocol !== 'https:') throw new CofferError('INVALID_ARGUMENT', `the API URL must be https://, not ${url.protocol}//`);
  return normaliseUrl(url.href);
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new CofferError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return value;
}

export class CofferClient {
  readonly domain: DomainApi;
  readonly auth: AuthApi;
  readonly principals: PrincipalApi;
  readonly projects: ProjectApi;
  readonly keys: KeyApi;
  readonly crypto: CryptoApi;
  readonly quorum: QuorumApi;
  readonly keyUse: KeyUseApi;
  readonly cluster: ClusterApi;
  readonly backups: BackupApi;
  readonly pki: PkiApi;
  readonly tsa: TsaApi;
  readonly #http: ClusterTransport;

  constructor(options: CofferClientOptions) {
    const seeds = [...new Set([...(options.url === undefined ? [] : [options.url]), ...(options.nodes ?? [])].map(seedUrl))];
    if (seeds.length === 0) throw new CofferError('INVALID_ARGUMENT', 'give the node URL (url) or the seed nodes (nodes)');
    const timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
    if ((options.cert === undefined) !== (options.key === undefined)) throw new CofferError('INVALID_ARGUMENT', 'a client certificate needs its key, and a key its certificate');
    const cert = loadPem(options.cert, 'client certificate');
    const key = loadPem(options.key, 'client key');
    if (cert !== undefined && key !== undefined) checkClientIdentity(cert, key);
    this.#http = new ClusterTransport({
      seeds, ca: loadPem(options.ca, 'CA'), cert, key, timeoutMs,
      discovery: options.discovery ?? options.nodes !== undefined,
      maxAttempts: positive(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 'maxAttempts'),
      breakerMs: positive(options.breakerMs ?? DEFAULT_BREAKER_MS, 'breakerMs'),
      refreshMs: positive(options.refreshMs ?? DEFAULT_REFRESH_MS, 'refreshMs'),
    });
    this.#http.useToken(options.token);
    // Unseal sessions and key-use requests' ephemeral keys live in one node: those calls stay on it.
    const pinned = this.#http.pinned();
    this.domain = new DomainApi(pinned);
    this.auth = new AuthApi(this.#http);
    this.principals = new PrincipalApi(this.#http);
    this.projects = new ProjectApi(this.#http);
    this.keys = new KeyApi(this.#http);
    this.crypto = new CryptoApi(this.#http);
    this.quorum = new QuorumApi(this.#http);
    this.keyUse = new KeyUseApi(pinned, timeoutMs);
    this.cluster = new ClusterApi(this.#http);
    this.backups = new BackupApi(this.#http);
    this.pki = new PkiApi(this.#http);
    this.tsa = new TsaApi(this.#http);
  }

  /** The first node's base URL (domain and key-use calls go there). */
  get url(): string {
    return this.#http.url;
  }

  /** The nodes requests are spread over: the live ones discovered, else the seeds. */
  get nodes(): readonly string[] {
    return this.#http.nodes;
  }

  /** Use this bearer token from now on (undefined: none); it is sent to the first node, which must have issued it. */
  setToken(token: string | undefined): void {
    this.#http.useToken(token);
  }

  /** Closes the pooled connections; the process can then exit without waiting for idle sockets. */
  close(): void {
    this.#http.close();
  }
}
