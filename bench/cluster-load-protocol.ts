// Messages between bench/cluster.ts and its load generators (bench/cluster-load.ts, child
// processes): the client identity once, then one job at a time, and what each job measured.

/** The user's identity and the CA as PEM text, so the child reads no files. */
export interface ClusterLoadIdentity {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export type ClusterLoadJob =
  /** P-256 signatures through the SDK over `nodes` (no discovery), `concurrency` calls in flight. */
  | { readonly kind: 'sign'; readonly nodes: readonly string[]; readonly keyId: string; readonly ms: number; readonly concurrency: number }
  /** Raw node:crypto P-256 signing, synchronous, in the child: the machine's scale. */
  | { readonly kind: 'raw'; readonly ms: number };

export interface ClusterLoadResult {
  /** Calls that succeeded (raw: signatures made). */
  readonly completed: number;
  readonly failed: number;
  readonly firstFailure?: string;
  /** From the first call to the last answer. */
  readonly seconds: number;
  /** The child's own CPU (user + system, all threads) over the job, microseconds. */
  readonly cpuMicros: number;
}

export type ToClusterLoad =
  | { readonly type: 'connect'; readonly identity: ClusterLoadIdentity }
  | { readonly type: 'job'; readonly job: ClusterLoadJob }
  | { readonly type: 'exit' };

export type FromClusterLoad =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: ClusterLoadResult }
  | { readonly type: 'error'; readonly message: string };
