// A journal entry: an audit event plus its place in the hash chain, and how its hash is computed.

import { hash } from 'node:crypto';
import type { AuditEvent } from '../core/ports.ts';
import { canonicalJson } from './canonical-json.ts';
import { eventProblem } from './event-validation.ts';

/** One line of the journal: the event's fields plus `seq`, `node`, `prevHash` and `hash`. */
export interface AuditEntry extends AuditEvent {
  /** 0-based and gap-free within a journal. */
  readonly seq: number;
  /** The node whose journal holds the entry. */
  readonly node: string;
  /** `hash` of entry `seq - 1`; GENESIS_HASH for entry 0. */
  readonly prevHash: string;
  /** Hex SHA-256 of the canonical JSON (RFC 8785) of every other field of the entry. */
  readonly hash: string;
}

/** The chain's head: the last entry's seq and hash (seq -1 and GENESIS_HASH for an empty journal). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** prevHash of entry 0. */
export const GENESIS_HASH = '0'.repeat(64);

export const CHAIN_FIELDS: ReadonlySet<string> = new Set(['seq', 'node', 'prevHash', 'hash']);

const HEX_HASH = /^[0-9a-f]{64}$/;

export function isHexHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_HASH.test(value);
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** An entry as built by the journal, before and after its hash is set. */
export type EntryDraft = Writable<Omit<AuditEntry, 'hash'>> & { hash?: string };

/**
 * Builds entry `seq` from a validated event and returns it with its journal line.
 *
 * Fast path: the object is built with its keys already in RFC 8785 order (UTF-16 code units:
 * detail, errorCode, inputDigest, keyId, keyVersion, node, operation, outcome, prevHash, principal,
 * project, requestId, seq, time) and detail's keys sorted, so JSON.stringify, which keeps insertion
 * order for non-integer keys, yields the canonical encoding without a generic sort. The verifier
 * recomputes it with canonicalJson; every journal test checks the two agree.
 */
export function encodeEntry(
  event: AuditEvent, seq: number, node: string, prevHash: string,
): { entry: EntryDraft; hash: string; line: string } {
  const entry = {} as EntryDraft;
  if (event.detail !== undefined) {
    const detail: Record<string, string | number | boolean> = {};
    for (const key of Object.keys(event.detail).sort()) detail[key] = event.detail[key] as string | number | boolean;
    entry.detail = detail;
  }
  if (event.errorCode !== undefined) entry.errorCode = event.errorCode;
  if (event.inputDigest !== undefined) entry.inputDigest = event.inputDigest;
  if (event.keyId !== undefined) entry.keyId = event.keyId;
  if (event.keyVersion !== undefined) entry.keyVersion = event.keyVersion;
  entry.node = node;
  entry.operation = event.operation;
  entry.outcome = event.outcome;
  entry.prevHash = prevHash;
  entry.principal = event.principal;
  if (event.project !== undefined) entry.project = event.project;
  entry.requestId = event.requestId;
  entry.seq = seq;
  entry.time = event.time;
  const canonical = JSON.stringify(entry);
  const digest = hash('sha256', canonical, 'hex');
  entry.hash = digest;
  return { entry, hash: digest, line: `${canonical.slice(0, -1)},"hash":"${digest}"}\n` };
}

/** Recomputes an entry's hash from its fields, whatever their order in the file. */
export function computeEntryHash(fields: Readonly<Record<string, unknown>>): string {
  const rest: Record<string, unknown> = { ...fields };
  delete rest['hash'];
  return hash('sha256', canonicalJson(rest), 'hex');
}

/** Why a parsed line is not a well-formed entry (shape only, not its place in the chain). */
export function entryShapeProblem(record: Readonly<Record<string, unknown>>): string | undefined {
  const seq = record['seq'];
  if (!(Number.isSafeInteger(seq) && (seq as number) >= 0)) return 'seq must be a non-negative integer';
  if (typeof record['node'] !== 'string' || record['node'] === '') return 'node must be a non-empty string';
  if (!isHexHash(record['prevHash'])) return 'prevHash must be a hex SHA-256';
  if (!isHexHash(record['hash'])) return 'hash must be a hex SHA-256';
  return eventProblem(record, CHAIN_FIELDS);
}
