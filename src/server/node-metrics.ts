// The /metrics exposition: request metrics plus the node's state and its keys by state. Keys are
// counted on scrape, at most KEY_COUNT_CAP records, and the count is cached briefly, so scrapes stay
// cheap at a million keys (the figures are then lower bounds, flagged by coffer_keys_truncated).
import type { BarrierState } from '../barrier/index.ts';
import { KEY_STATES } from '../core/key-record.ts';
import type { KeyCounts } from './key-inventory.ts';
import type { NodeServices } from './node-services.ts';
import { renderFamilies, type MetricFamily } from './prometheus-text.ts';

export const KEY_COUNT_CAP = 50_000;
const KEY_COUNT_TTL_MS = 30_000;
const STATES: readonly BarrierState[] = ['UNINITIALIZED', 'SEALED', 'UNSEALED'];

export class NodeMetrics {
  readonly #services: NodeServices;
  readonly #cap: number;
  #cached: { readonly at: number; readonly counts: KeyCounts } | undefined;

  constructor(services: NodeServices, options: { keyCountCap?: number } = {}) {
    this.#services = services;
    this.#cap = options.keyCountCap ?? KEY_COUNT_CAP;
  }

  async #keyCounts(): Promise<KeyCounts | undefined> {
    if (this.#services.node.state !== 'UNSEALED') {
      this.#cached = undefined;
      return undefined;
    }
    const now = Date.now();
    if (this.#cached === undefined || now - this.#cached.at > KEY_COUNT_TTL_MS) {
      this.#cached = { at: now, counts: await this.#services.keys.countByState(this.#cap) };
    }
    return this.#cached.counts;
  }

  async render(): Promise<string> {
    const state = this.#services.node.state;
    const families: MetricFamily[] = [
      ...this.#services.metrics.families(),
      {
        name: 'coffer_node_state', help: 'The node state: 1 for the current one.', type: 'gauge',
        samples: STATES.map((s) => ({ labels: { state: s }, value: s === state ? 1 : 0 })),
      },
    ];
    // A store that cannot be read must not take the rest of the metrics down with it.
    const counts = await this.#keyCounts().catch(() => undefined);
    if (counts !== undefined) {
      families.push(
        { name: 'coffer_keys', help: 'Keys by state (counted on scrape, cached 30 s).', type: 'gauge', samples: KEY_STATES.map((s) => ({ labels: { state: s }, value: counts.byState[s] })) },
        { name: 'coffer_keys_truncated', help: `1 when more than ${this.#cap} keys exist and coffer_keys counts only the first ones.`, type: 'gauge', samples: [{ value: counts.truncated ? 1 : 0 }] },
      );
    }
    return renderFamilies(families);
  }
}
