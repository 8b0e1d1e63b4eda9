// Measurement helpers: time-boxed rate measurement, medians over runs, ratio printing.
import { performance } from 'node:perf_hooks';

export interface Rate {
  readonly opsPerSecond: number;
  /** Process CPU time (user + system, all threads) per operation, in microseconds. */
  readonly cpuMicrosPerOp: number;
  /** Share of the wall time the event loop was busy (1 = never idle; idle means waiting on I/O). */
  readonly loopUtilization: number;
}

/** Wall time, process CPU and event-loop use across one measurement. */
function meter(): (ops: number) => Rate {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  return (ops) => {
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      opsPerSecond: ops / seconds,
      cpuMicrosPerOp: (used.user + used.system) / Math.max(1, ops),
      loopUtilization: performance.eventLoopUtilization(loop).utilization,
    };
  };
}

/** Runs `op` synchronously in a loop for about `ms` milliseconds. */
export function measureSync(op: () => unknown, ms: number): Rate {
  const deadline = performance.now() + ms;
  let count = 0;
  const done = meter();
  while (performance.now() < deadline) {
    for (let i = 0; i < 16; i++) op();
    count += 16;
  }
  return done(count);
}

/** Keeps `concurrency` calls of `op` in flight for about `ms` milliseconds. */
export async function measureAsync(op: () => Promise<unknown>, ms: number, concurrency: number): Promise<Rate> {
  const done = meter();
  const deadline = performance.now() + ms;
  let count = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await op();
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done(count);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function formatRate(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)}k/s` : `${value.toFixed(0)}/s`;
}

/**
 * Starts a meter over work measured elsewhere (another process, a paced load): call the result with
 * the operation count when the work ends. Process CPU covers every thread of this process.
 */
export function startMeter(): (ops: number) => Rate {
  return meter();
}

/** The p-th percentile (0-100) of ascending samples, nearest rank; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** A positive integer from the environment (a benchmark knob), or `fallback` when unset. */
export function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}
