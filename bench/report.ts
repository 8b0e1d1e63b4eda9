// What every benchmark's report prints: the runtime and machine it ran on, the load average (other
// work on the machine skews every figure), and aligned tables.
import { availableParallelism, cpus, loadavg } from 'node:os';

/** Prints `title` and the runtime and CPU lines under it; returns the machine's core count. */
export function printHeader(title: string): number {
  const cpuList = cpus();
  console.log(title);
  console.log(`  node ${process.version}, OpenSSL ${process.versions.openssl}, ${process.platform}/${process.arch}`);
  console.log(`  cpus: ${cpuList.length} (available parallelism ${availableParallelism()}) ${cpuList[0]?.model.trim() ?? ''}`);
  return cpuList.length;
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** A Markdown-style table: the first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], lines: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i > 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}
