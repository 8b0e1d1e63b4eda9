// Requests over a cluster: spread across the live nodes, retried on another node when one fails
// (idempotent requests, and writes carrying an Idempotency-Key the nodes dedupe), a bounded number
// of times, with failed nodes skipped by their circuit breaker.
import { randomUUID } from 'node:crypto';
import { CofferError, type ErrorCode } from '../core/errors.ts';
import { CofferApiError } from './client-errors.ts';
import { NodePool, type NodePoolOptions, type PoolNode } from './node-pool.ts';
import type { Exchange, RequestOptions, Transport } from './transport.ts';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export interface ClusterTransportOptions extends NodePoolOptions {
  /** Attempts per logical call, the first included. */
  readonly maxAttempts: number;
}

/** No answer came: the node (or the path to it) is at fault, not the request. */
const TRANSPORT_FAILURES: ReadonlySet<ErrorCode> = new Set(['CLIENT_UNAVAILABLE', 'CLIENT_TIMEOUT', 'CLIENT_TLS_FAILED']);
/** 503s that say "not this node, not now": the node is sealed or cannot write its audit journal. */
const NODE_REFUSALS: ReadonlySet<ErrorCode> = new Set(['DOMAIN_SEALED', 'AUDIT_UNAVAILABLE']);
/** Pause before a node is tried a second time within one call, doubled each time up to the cap. */
const BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 1_000;

type Verdict = 'node-down' | 'elsewhere' | 'in-flight' | 'final';

function verdictOn(error: unknown, idempotent: boolean): Verdict {
  if (error instanceof CofferApiError) {
    if (error.code === 'IDEMPOTENCY_KEY_IN_FLIGHT') return 'in-flight';
    if (error.httpStatus === 503 && NODE_REFUSALS.has(error.code)) return 'node-down';
    // The store is shared: another node cannot write either, but it may read from its caches.
    if (error.httpStatus === 503 && error.code === 'STORE_UNAVAILABLE' && idempotent) return 'elsewhere';
    return 'final';
  }
  return error instanceof CofferError && TRANSPORT_FAILURES.has(error.code) ? 'node-down' : 'final';
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class ClusterTransport implements Transport {
  readonly #pool: NodePool;
  readonly #maxAttempts: number;
  #token: string | undefined;
  #tokenNode: string | undefined;

  constructor(options: ClusterTransportOptions) {
    this.#pool = new NodePool(options);
    this.#maxAttempts = options.maxAttempts;
  }

  /** The first seed's base URL. */
  get url(): string {
    return this.#pool.primary.url;
  }

  /** The nodes requests are currently spread over. */
  get nodes(): readonly string[] {
    return this.#pool.live;
  }

  /**
   * A view whose requests all go to one node, without retries elsewhere: domain routes (unseal
   * sessions live in one node) and key-use requests (their ephemeral keys live in one node's memory).
   */
  pinned(): Transport {
    return {
      send: async (method, path, options) => (await this.#run(method, path, options ?? {}, true)).body,
      exchange: (method, path, options) => this.#run(method, path, options ?? {}, true),
      useToken: (token, node) => {
        this.useToken(token, node);
      },
    };
  }

  useToken(token: string | undefined, node?: string): void {
    this.#token = token;
    this.#tokenNode = token === undefined ? undefined : node;
  }

  async send(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    return (await this.#run(method, path, options, false)).body;
  }

  exchange(method: string, path: string, options: RequestOptions = {}): Promise<Exchange> {
    return this.#run(method, path, options, false);
  }

  close(): void {
    this.#pool.close();
  }

  async #run(method: string, path: string, options: RequestOptions, pinned: boolean): Promise<Exchange> {
    const idempotent = method === 'GET' || options.idempotent === true;
    const auth: Record<string, string> = this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
    // A token is valid only on its node; a pinned call has one node by definition.
    const fixed = this.#token !== undefined ? this.#pool.node(this.#tokenNode ?? this.url) : pinned ? this.#pool.primary : undefined;
    if (fixed === undefined) await this.#pool.ready(auth);
    // One key per logical call, the same on every attempt, so the nodes run the write at most once.
    const headers = idempotent || pinned ? { ...auth, ...options.headers } : { ...auth, [IDEMPOTENCY_KEY_HEADER]: randomUUID(), ...options.headers };
    const attempts = pinned ? 1 : this.#maxAttempts;
    // Nodes that failed this call are avoided while another remains; a node asked again waits first.
    const failed = new Set<string>();
    const asked = new Set<string>();
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const node: PoolNode = fixed ?? this.#pool.pick(failed);
      if (asked.has(node.url)) await pause(Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (attempt - 1)));
      asked.add(node.url);
      try {
        const answer = await node.http.exchange(method, path, { ...options, headers });
        this.#pool.succeeded(node);
        return { ...answer, node: node.url };
      } catch (error) {
        const verdict = verdictOn(error, idempotent);
        if (verdict === 'final') throw error;
        lastError = error;
        if (verdict === 'node-down') this.#pool.failed(node);
        // The first attempt is still running somewhere: ask again shortly, on any node.
        if (verdict === 'in-flight') await pause(Math.min(MAX_BACKOFF_MS, 2 * BACKOFF_MS * 2 ** attempt));
        else failed.add(node.url);
      }
    }
    throw lastError;
  }
}
