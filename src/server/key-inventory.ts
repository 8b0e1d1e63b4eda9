// Questions about keys that are not a caller's operation: whether a project still holds keys (before
// it is deleted) and how many keys are in each state (for metrics). Read-only; never audited.
import { KEY_STATES, type KeyState } from '../core/key-record.ts';
import { SealedKeyRepository } from '../store/key-repository/index.ts';
import type { CofferNode } from './coffer-node.ts';

export interface KeyCounts {
  readonly byState: Readonly<Record<KeyState, number>>;
  /** True when the count stopped at the cap: the figures are then lower bounds. */
  readonly truncated: boolean;
}

/** Records decrypted per scan page; large enough to amortise store round trips. */
const SCAN_PAGE = 500;

export class KeyInventory {
  readonly #node: CofferNode;

  constructor(node: CofferNode) {
    this.#node = node;
  }

  /** Reads go through the barrier, which answers DOMAIN_SEALED while the node is sealed. */
  #repository(): SealedKeyRepository {
    return new SealedKeyRepository(this.#node.store, this.#node.barrier);
  }

  async projectHasKeys(project: string): Promise<boolean> {
    return (await this.#repository().list(project, { limit: 1 })).length > 0;
  }

  /** Counts keys by state, decrypting at most `cap` records. */
  async countByState(cap: number): Promise<KeyCounts> {
    const repository = this.#repository();
    const byState = Object.fromEntries(KEY_STATES.map((s) => [s, 0])) as Record<KeyState, number>;
    let seen = 0;
    let after: string | undefined;
    while (seen < cap) {
      const want = Math.min(SCAN_PAGE, cap - seen);
      const page = await repository.scan({ limit: want, ...(after === undefined ? {} : { after }) });
      for (const { record } of page) byState[record.state] += 1;
      seen += page.length;
      after = page.at(-1)?.record.id;
      if (page.length < want || after === undefined) return { byState, truncated: false };
    }
    const beyond = await repository.scan({ limit: 1, ...(after === undefined ? {} : { after }) });
    return { byState, truncated: beyond.length > 0 };
  }
}
