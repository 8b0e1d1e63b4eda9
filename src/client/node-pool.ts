// The nodes a client talks to: the seed list, the live nodes discovered from GET /v1/cluster/nodes,
// one keep-alive transport per node, round-robin selection, and a circuit breaker per node.
import { CofferError } from '../core/errors.ts';
import { CofferApiError } from './client-errors.ts';
import { HttpTransport } from './http-transport.ts';

export interface NodePoolOptions {
  /** Normalised base URLs (no trailing slash), the first being the primary. */
  readonly seeds: readonly string[];
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly timeoutMs: number;
  /** Ask the nodes for the cluster's live members. */
  readonly discovery: boolean;
  /** How old the live list may grow before it is asked for again. */
  readonly refreshMs: number;
  /** How long a failed node is skipped. */
  readonly breakerMs: number;
}

export interface PoolNode {
  readonly url: string;
  readonly http: HttpTransport;
  /** Until this time (ms since the epoch) the node is skipped while another is available. */
  openUntil: number;
}

/** Discovery must not hold up the first request for a full request deadline. */
const DISCOVERY_TIMEOUT_MS = 5_000;
const CLUSTER_NODES_PATH = '/v1/cluster/nodes';

/** A base URL in one spelling, so a seed and the same node's advertised apiUrl coincide. */
export function normaliseUrl(text: string): string {
  return new URL(text).href.replace(/\/$/, '');
}

/** The API URLs of UNSEALED nodes in a /v1/cluster/nodes answer; undefined for any other shape. */
export function liveNodesFrom(answer: unknown): string[] | undefined {
  const nodes = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)['nodes'] : undefined;
  if (!Array.isArray(nodes)) return undefined;
  const urls: string[] = [];
  for (const node of nodes as unknown[]) {
    if (typeof node !== 'object' || node === null) continue;
    const { apiUrl, state } = node as Record<string, unknown>;
    if (state !== 'UNSEALED' || typeof apiUrl !== 'string') continue;
    try {
      // Only ever TLS: an advertised http:// address is ignored rather than followed.
      if (new URL(apiUrl).protocol === 'https:') urls.push(normaliseUrl(apiUrl));
    } catch {
      // A malformed address is skipped; the others still serve.
    }
  }
  return [...new Set(urls)];
}

export class NodePool {
  readonly #options: NodePoolOptions;
  readonly #nodes = new Map<string, PoolNode>();
  /** The nodes requests are spread over: the discovered live ones, else the seeds. */
  #live: readonly string[];
  #cursor = 0;
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;

  constructor(options: NodePoolOptions) {
    if (options.seeds.length === 0) throw new CofferError('INVALID_ARGUMENT', 'a client needs at least one node URL');
    this.#options = options;
    this.#live = options.seeds;
  }

  get primary(): PoolNode {
    return this.node(this.#options.seeds[0] ?? '');
  }

  /** The URLs requests are currently spread over. */
  get live(): readonly string[] {
    return this.#live;
  }

  node(url: string): PoolNode {
    let node = this.#nodes.get(url);
    if (node === undefined) {
      const { ca, cert, key, timeoutMs } = this.#options;
      // One agent per node, all holding this client's identity (never shared with another client).
      node = { url, http: new HttpTransport({ url: new URL(url), ca, cert, key, timeoutMs }), openUntil: 0 };
      this.#nodes.set(url, node);
    }
    return node;
  }

  /**
   * Before a spread request: the first call waits for discovery; later ones refresh in the
   * background once the list is older than refreshMs (or a node failed).
   */
  async ready(headers: Readonly<Record<string, string>>): Promise<void> {
    if (!this.#options.discovery) return;
    if (this.#refreshedAt === Number.NEGATIVE_INFINITY) {
      await this.#refresh(headers);
      return;
    }
    if (Date.now() - this.#refreshedAt >= this.#options.refreshMs) void this.#refresh(headers);
  }

  /**
   * The next node in round-robin order that is neither in `exclude` nor skipped by its breaker; then
   * seeds outside the live list; then any node not excluded (a half-open probe); then any at all.
   */
  pick(exclude: ReadonlySet<string>): PoolNode {
    const now = Date.now();
    const usable = (url: string): boolean => !exclude.has(url) && (this.#nodes.get(url)?.openUntil ?? 0) <= now;
    const live = this.#live;
    for (let i = 0; i < live.length; i++) {
      const url = live[(this.#cursor + i) % live.length];
      if (url !== undefined && usable(url)) {
        this.#cursor = (this.#cursor + i + 1) % live.length;
        return this.node(url);
      }
    }
    const everyone = [...new Set([...live, ...this.#options.seeds])];
    const fallback = everyone.find(usable)
      ?? everyone.filter((url) => !exclude.has(url)).sort((a, b) => (this.#nodes.get(a)?.openUntil ?? 0) - (this.#nodes.get(b)?.openUntil ?? 0))[0]
      ?? live[this.#cursor++ % live.length] ?? this.#options.seeds[0] ?? '';
    return this.node(fallback);
  }

  /** The node failed at the transport level or is sealed: skip it for a while and re-discover soon. */
  failed(node: PoolNode): void {
    node.openUntil = Date.now() + this.#options.breakerMs;
    this.#refreshedAt = Math.min(this.#refreshedAt, Date.now() - this.#options.refreshMs);
  }

  succeeded(node: PoolNode): void {
    node.openUntil = 0;
  }

  close(): void {
    for (const node of this.#nodes.values()) node.http.close();
  }

  #refresh(headers: Readonly<Record<string, string>>): Promise<void> {
    this.#refreshing ??= this.#discover(headers).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /**
   * Asks the live nodes, then the seeds, until one answers. An answer without UNSEALED nodes, a
   * ROUTE_NOT_FOUND from a node older than cluster mode, or no answer at all leaves the seeds.
   */
  async #discover(headers: Readonly<Record<string, string>>): Promise<void> {
    const now = Date.now();
    const candidates = [...new Set([...this.#live, ...this.#options.seeds])]
      .sort((a, b) => Number((this.#nodes.get(a)?.openUntil ?? 0) > now) - Number((this.#nodes.get(b)?.openUntil ?? 0) > now));
    let found: string[] | undefined;
    for (const url of candidates) {
      try {
        const answer = await this.node(url).http.send('GET', CLUSTER_NODES_PATH, { headers, timeoutMs: DISCOVERY_TIMEOUT_MS });
        found = liveNodesFrom(answer) ?? [];
        break;
      } catch (error) {
        // A single node, or a node that predates clustering: no cluster, the seeds are the nodes.
        if (error instanceof CofferApiError && error.code === 'ROUTE_NOT_FOUND') {
          found = [];
          break;
        }
      }
    }
    this.#refreshedAt = Date.now();
    this.#live = found !== undefined && found.length > 0 ? found : this.#options.seeds;
  }
}
