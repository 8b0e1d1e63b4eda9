// Runs a profile's checks before signing: built-ins first, then external commands, each group in the
// profile's order, stopping at the first failure. A failed or throwing check blocks signing.
import { boundedText } from './bounded-output.ts';
import type { Check, CheckContext, CheckResult } from './check-types.ts';

export interface ChecksOutcome {
  /** True only when every check ran and passed (vacuously true with no checks). */
  readonly passed: boolean;
  /** The checks that ran, in run order; when `passed` is false the last one is the failure. */
  readonly results: CheckResult[];
}

/** Kinds that start a process: run last, so no program ever sees an artifact a built-in refused. */
const EXTERNAL_KINDS: readonly string[] = ['command'];

export async function runChecks(checks: readonly Check[], context: CheckContext, options: { readonly signal?: AbortSignal } = {}): Promise<ChecksOutcome> {
  const signal = options.signal ?? new AbortController().signal;
  const ordered = [...checks.filter((c) => !EXTERNAL_KINDS.includes(c.kind)), ...checks.filter((c) => EXTERNAL_KINDS.includes(c.kind))];
  const results: CheckResult[] = [];
  for (const check of ordered) {
    const started = performance.now();
    let result: CheckResult;
    try {
      result = await check.run(context, signal);
    } catch {
      // A plug-in that throws has not said yes: fail closed, and keep its error out of the job record.
      result = { name: check.name, kind: check.kind, passed: false, output: boundedText('check threw instead of reporting a result'), durationMs: performance.now() - started };
    }
    results.push(result);
    if (!result.passed) return { passed: false, results };
  }
  return { passed: true, results };
}
