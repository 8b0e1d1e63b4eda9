// Last step of a benchmark's cleanup: SIGKILLs any child process of this one still running (one
// started but never handed back, such as a node whose start timed out). Linux /proc; a no-op elsewhere.
import { childrenOf } from './process-tree.ts';

/** Returns the pids it killed, so the caller can say so. */
export function reapChildren(): number[] {
  const killed: number[] = [];
  for (const pid of childrenOf(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Already gone.
    }
  }
  return killed;
}
