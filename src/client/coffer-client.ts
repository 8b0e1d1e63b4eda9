// CofferClient: the typed SDK over one node's native API (docs/api.md), grouped as the API is:
// domain, auth, principals, projects, keys, crypto, quorum, keyUse.
import { CofferError } from '../core/errors.ts';
import { AuthApi, PrincipalApi, ProjectApi } from './identity-api.ts';
import { CryptoApi } from './crypto-api.ts';
import { DomainApi } from './domain-api.ts';
import { HttpTransport } from './http-transport.ts';
import { KeyApi } from './key-api.ts';
import { KeyUseApi } from './key-use-api.ts';
import { QuorumApi } from './quorum-api.ts';
import { checkClientIdentity, loadPem, type PemSource } from './credentials.ts';

export interface CofferClientOptions {
  /** The node's API, e.g. https://localhost:8443. */
  readonly url: string;
  /** CA that issued the node's certificate (PEM text or a file path); default: the system store. */
  readonly ca?: PemSource;
  /** Client certificate and its key for mutual TLS (PEM text or file paths). */
  readonly cert?: PemSource;
  readonly key?: PemSource;
  /** A bearer token from login, instead of (or besides) a client certificate. */
  readonly token?: string;
  /** Deadline for one request, connection included (default 30 s). */
  readonly timeoutMs?: number;
}

/** A request that takes longer than this is waiting on something that will not come. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export class CofferClient {
  readonly domain: DomainApi;
  readonly auth: AuthApi;
  readonly principals: PrincipalApi;
  readonly projects: ProjectApi;
  readonly keys: KeyApi;
  readonly crypto: CryptoApi;
  readonly quorum: QuorumApi;
  readonly keyUse: KeyUseApi;
  readonly #http: HttpTransport;

  constructor(options: CofferClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (error) {
      throw new CofferError('INVALID_ARGUMENT', `not a URL: ${JSON.stringify(options.url.slice(0, 200))}`, { cause: error });
    }
    // The API is only ever served over TLS: a plain-http URL is a mistake, not a choice.
    if (url.protocol !== 'https:') throw new CofferError('INVALID_ARGUMENT', `the API URL must be https://, not ${url.protocol}//`);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new CofferError('INVALID_ARGUMENT', 'timeoutMs must be a positive integer');
    if ((options.cert === undefined) !== (options.key === undefined)) throw new CofferError('INVALID_ARGUMENT', 'a client certificate needs its key, and a key its certificate');
    const cert = loadPem(options.cert, 'client certificate');
    const key = loadPem(options.key, 'client key');
    if (cert !== undefined && key !== undefined) checkClientIdentity(cert, key);
    this.#http = new HttpTransport({ url, ca: loadPem(options.ca, 'CA'), cert, key, timeoutMs });
    this.#http.token = options.token;
    this.domain = new DomainApi(this.#http);
    this.auth = new AuthApi(this.#http);
    this.principals = new PrincipalApi(this.#http);
    this.projects = new ProjectApi(this.#http);
    this.keys = new KeyApi(this.#http);
    this.crypto = new CryptoApi(this.#http);
    this.quorum = new QuorumApi(this.#http);
    this.keyUse = new KeyUseApi(this.#http, timeoutMs);
  }

  /** The node's base URL. */
  get url(): string {
    return this.#http.url;
  }

  /** Use this bearer token from now on (undefined: none). */
  setToken(token: string | undefined): void {
    this.#http.token = token;
  }

  /** Closes the pooled connections; the process can then exit without waiting for idle sockets. */
  close(): void {
    this.#http.close();
  }
}
