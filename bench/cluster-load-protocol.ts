// Messages between bench/cluster.ts and its load generators (bench/cluster-load.ts, child
// processes): the client identity once, then one job at a time, and what each job measured.
import type { ClientIdentity, LoadProtocol, LoadTally } from './load-child-protocol.ts';

export type ClusterLoadJob =
  /** P-256 signatures through the SDK over `nodes` (no discovery), `concurrency` calls in flight. */
  | { readonly kind: 'sign'; readonly nodes: readonly string[]; readonly keyId: string; readonly ms: number; readonly concurrency: number }
  /** Raw node:crypto P-256 signing, synchronous, in the child: the machine's scale. */
  | { readonly kind: 'raw'; readonly ms: number };

/** `completed` counts calls that succeeded (raw: signatures made); `seconds` runs from the first call. */
export type ClusterLoadResult = LoadTally;

export interface ClusterLoad extends LoadProtocol {
  readonly setup: ClientIdentity;
  readonly job: ClusterLoadJob;
  readonly result: ClusterLoadResult;
}
