// The shapes every pre-sign check shares: what a check sees, what it reports, and the Check interface.

/** The digests the upload computed on the way to disk, by hash name. */
export type ArtifactDigests = Partial<Record<'SHA-256' | 'SHA-384' | 'SHA-512', Buffer>>;

/** What a check may look at: the artifact on disk (never in memory) and who submitted it, where. */
export interface CheckContext {
  /** The artifact on the service's disk. */
  readonly path: string;
  /** Its size in bytes, as counted by the upload. */
  readonly size: number;
  readonly digests: ArtifactDigests;
  readonly metadata: Readonly<Record<string, string>>;
  readonly submitter: string;
  readonly project: string;
  readonly profile: string;
}

/** One check's verdict; `output` is kept with the job, so it is bounded (OUTPUT_LIMIT_BYTES). */
export interface CheckResult {
  readonly name: string;
  readonly kind: string;
  readonly passed: boolean;
  readonly output: string;
  readonly durationMs: number;
  /** The external command's exit status, when it exited on its own. */
  readonly exitCode?: number;
  /** True when the external command ran past its timeout and was killed. */
  readonly timedOut?: boolean;
}

/** A pre-sign check. `run` reports failure as data (passed: false); it should not throw. */
export interface Check {
  readonly name: string;
  readonly kind: string;
  run(context: CheckContext, signal: AbortSignal): Promise<CheckResult>;
}
