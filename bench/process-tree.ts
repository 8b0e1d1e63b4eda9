// Other processes through Linux /proc: a process's children, and the CPU time of given pids or of a
// process with its children (the PostgreSQL postmaster and its backends), so a benchmark can say where
// a signature's CPU went on a machine other work shares, and find its own stray children. Undefined
// (or empty) where /proc is unreadable.
import { readdirSync, readFileSync } from 'node:fs';

/** /proc reports CPU times in USER_HZ ticks, 100 per second on Linux whatever the kernel's HZ. */
const MICROS_PER_TICK = 10_000;

interface Stat {
  readonly parent: number;
  /** utime + stime of every thread, microseconds. */
  readonly cpuMicros: number;
}

function statOf(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is parenthesised and may hold spaces; fields after it are fixed (proc(5)).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { parent: Number(fields[1]), cpuMicros: (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK };
}

/** CPU (user + system) used so far by each of `pids` together, microseconds. */
export function cpuOf(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const stat = statOf(pid);
    if (stat === undefined) return undefined;
    total += stat.cpuMicros;
  }
  return total;
}

/** The parent of `pid` (for a PostgreSQL backend: the postmaster). */
export function parentOf(pid: number): number | undefined {
  return statOf(pid)?.parent;
}

/** The live children of `pid`, with their CPU so far. */
function childStats(pid: number): { pid: number; stat: Stat }[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: { pid: number; stat: Stat }[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (stat?.parent === pid) found.push({ pid: Number(name), stat });
  }
  return found;
}

/** The pids of the live children of `pid`. */
export function childrenOf(pid: number): number[] {
  return childStats(pid).map((child) => child.pid);
}

/**
 * CPU used so far by `pid` and its live children, microseconds. A child that exited between two
 * readings takes its CPU with it, so this fits long-lived children (a connection pool's backends).
 */
export function cpuOfTree(pid: number): number | undefined {
  const own = statOf(pid);
  if (own === undefined) return undefined;
  return childStats(pid).reduce((total, child) => total + child.stat.cpuMicros, own.cpuMicros);
}
