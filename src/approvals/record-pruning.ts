// Pruning of ended approval records (key-use requests, quorum tokens): it lists every record, so it
// runs at most once a PRUNE_INTERVAL_MS from the calls that add or list them, and a record changed
// meanwhile is left for the next run.
import type { Caller } from '../core/engine/index.ts';
import { isCofferError } from '../core/errors.ts';
import type { AuditSink, Clock } from '../core/ports.ts';
import { auditedApprovalCall, NO_DENIALS } from './approval-audit.ts';

/** Pruning lists every record, so it runs at most this often (from request and list). */
export const PRUNE_INTERVAL_MS = 60 * 1000;

/** Removes each record `isDue` picks, in order; returns how many went. A conflict (the record changed) skips it. */
export async function removeDue<R>(records: Iterable<R>, isDue: (record: R) => boolean, remove: (record: R) => Promise<unknown>): Promise<number> {
  let removed = 0;
  for (const record of records) {
    if (!isDue(record)) continue;
    try {
      await remove(record);
      removed += 1;
    } catch (error) {
      if (!isCofferError(error, 'STORE_CONFLICT')) throw error;
    }
  }
  return removed;
}

export interface PruneThrottleOptions {
  readonly audit: AuditSink;
  readonly clock: Clock;
  /** The audit operation of a prune that removed anything, e.g. `quorum.prune`. */
  readonly operation: string;
  /** The prune itself; resolves to how many records went. */
  readonly prune: () => Promise<number>;
}

/** Runs a prune at most once a PRUNE_INTERVAL_MS, on a caller's request; audited as that caller when anything went. */
export class PruneThrottle {
  readonly #options: PruneThrottleOptions;
  #lastPruneMs: number | undefined;

  constructor(options: PruneThrottleOptions) {
    this.#options = options;
  }

  async maybePrune(actor: Caller): Promise<void> {
    const { audit, clock, operation, prune } = this.#options;
    const now = clock.now().getTime();
    if (this.#lastPruneMs !== undefined && now - this.#lastPruneMs < PRUNE_INTERVAL_MS) return;
    this.#lastPruneMs = now;
    const pruned = await prune();
    if (pruned > 0) {
      await auditedApprovalCall(audit, clock, { principal: actor.principal, requestId: actor.requestId, operation }, NO_DENIALS, () => Promise.resolve(), { pruned });
    }
  }
}
