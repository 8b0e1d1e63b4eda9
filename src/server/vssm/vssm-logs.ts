// getlogs: the newest audit journal entries the caller may see, as VSSM's log lines
// ("[time] location, LEVEL: message"). Officers and auditors see every entry; others their own.
import { open } from 'node:fs/promises';
import type { Principal } from '../identity/identity-types.ts';

/** VSSM keeps 10,000 lines in memory; a tenth keeps one JSON answer well under a megabyte. */
export const MAX_LOG_LINES = 1000;
/** Bytes read from the end of the journal: entries are a few hundred bytes, so this holds far more than MAX_LOG_LINES. */
const TAIL_BYTES = 2 * 1024 * 1024;

interface JournalEntry {
  readonly time: string;
  readonly node: string;
  readonly principal: string;
  readonly operation: string;
  readonly outcome: string;
  readonly requestId: string;
  readonly project?: unknown;
  readonly keyId?: unknown;
  readonly keyVersion?: unknown;
  readonly errorCode?: unknown;
}

function entryOf(line: string): JournalEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // A line being appended while we read, or the torn first line of the tail.
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as Record<string, unknown>;
  // Checkpoint lines carry `type`; entries do not.
  if (entry['type'] !== undefined) return undefined;
  const text = ['time', 'node', 'principal', 'operation', 'outcome', 'requestId'];
  return text.every((field) => typeof entry[field] === 'string') ? (entry as unknown as JournalEntry) : undefined;
}

function canSeeAll(principal: Principal): boolean {
  return principal.role === 'officer' || principal.role === 'auditor';
}

/** The message part names the key and outcome, never the entry's free-form detail. */
export function formatLogLine(entry: JournalEntry): string {
  const level = entry.outcome === 'ALLOWED' ? 'INFO' : 'WARN';
  const fields = [
    ['project', entry.project], ['key', entry.keyId], ['version', entry.keyVersion], ['error', entry.errorCode], ['request', entry.requestId],
  ].filter((pair): pair is [string, string | number] => typeof pair[1] === 'string' || typeof pair[1] === 'number');
  const message = [entry.principal, entry.operation, entry.outcome, ...fields.map(([k, v]) => `${k}=${String(v)}`)].join(' ');
  return `[${entry.time}] ${entry.node}, ${level}: ${message}`;
}

async function readTail(path: string): Promise<{ text: string; partial: boolean }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), partial: start > 0 };
  } finally {
    await file.close();
  }
}

/** Oldest first, as VSSM returns them. */
export async function visibleLogLines(journalPath: string, principal: Principal): Promise<string[]> {
  const { text, partial } = await readTail(journalPath);
  const lines = text.split('\n');
  if (partial) lines.shift();
  const all = canSeeAll(principal);
  const visible = lines.map(entryOf).filter((e): e is JournalEntry => e !== undefined && (all || e.principal === principal.name));
  return visible.slice(-MAX_LOG_LINES).map(formatLogLine);
}
