// CPU accounting from Linux /proc: this process by thread (event loop, libuv's pool, V8's helpers)
// and the whole machine, so a report can say how much of the shared cores other work took.
import { readdirSync, readFileSync } from 'node:fs';

/** /proc reports CPU times in USER_HZ ticks, 100 per second on Linux whatever the kernel's HZ. */
const MICROS_PER_TICK = 10_000;

/** CPU time (user + system) of this process by thread, microseconds. */
export interface ThreadCpu {
  /** The event loop's thread. */
  readonly main: number;
  /** libuv's thread pool: crypto callbacks, fs writes. */
  readonly pool: number;
  /** V8's helpers (concurrent GC, compilation) and the rest. */
  readonly other: number;
}

/** Per-thread CPU of this process from /proc (Linux only; undefined elsewhere). 10 ms resolution. */
export function threadCpu(): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const totals = { main: 0, pool: 0, other: 0 };
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // The name may contain spaces and parentheses; the fields after it are fixed (proc(5)).
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const micros = (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK;
    const group = tid === String(process.pid) ? 'main' : name.startsWith('libuv-worker') ? 'pool' : 'other';
    totals[group] += micros;
  }
  return totals;
}

/** The whole machine's busy CPU (every process) and the time the hypervisor took away, microseconds. */
export interface MachineCpu {
  readonly busy: number;
  readonly steal: number;
}

/** From /proc/stat (Linux only; undefined elsewhere). Busy is user, nice, system, irq and softirq. */
export function machineCpu(): MachineCpu | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  const [user, nice, system, , , irq, softirq, steal] = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  if (user === undefined || steal === undefined || [nice, system, irq, softirq].some((v) => v === undefined)) return undefined;
  return { busy: (user + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * MICROS_PER_TICK, steal: steal * MICROS_PER_TICK };
}
