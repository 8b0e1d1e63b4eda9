// Shared helpers for the audit tests: temp dirs, an Ed25519 signer, events, and line surgery.

import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { AuditEvent, Clock } from '../core/ports.ts';
import type { CheckpointSigner } from './checkpoint.ts';

/** A fresh directory, removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export interface TestSigner {
  readonly signer: CheckpointSigner;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

export function newSigner(): TestSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { signer: { sign: (data) => sign(null, data, privateKey), publicKey }, publicKey, privateKey };
}

/** A deterministic event; `i` makes it unique. */
export function event(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, i)).toISOString(),
    principal: `user-${i % 7}`,
    operation: i % 2 === 0 ? 'Sign' : 'Decrypt',
    outcome: 'ALLOWED',
    requestId: `req-${i}`,
    project: 'payments',
    keyId: '5b0c0d6e-6b8d-4c3a-9a51-1f0e7f0c1e2a',
    keyVersion: 1 + (i % 3),
    inputDigest: createHash('sha256').update(String(i)).digest('hex'),
    ...overrides,
  };
}

export class ManualClock implements Clock {
  current = new Date(Date.UTC(2025, 5, 1));
  now(): Date {
    return new Date(this.current);
  }
}

export type JsonRecord = Record<string, unknown>;

export function readRecords(path: string): JsonRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as JsonRecord);
}

export function writeRecords(path: string, records: readonly JsonRecord[]): void {
  writeFileSync(path, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
}

export function isCheckpoint(record: JsonRecord): boolean {
  return record['type'] === 'checkpoint';
}

function sortKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as JsonRecord;
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, sortKeys(record[key])]));
}

/** An entry's hash computed independently of the code under test: SHA-256 of sorted-key JSON without `hash`. */
export function independentHash(entry: JsonRecord): string {
  const rest: JsonRecord = { ...entry };
  delete rest['hash'];
  return createHash('sha256').update(JSON.stringify(sortKeys(rest))).digest('hex');
}

/** What a forger does after editing an entry: recompute its hash. */
export function rehash(entry: JsonRecord): JsonRecord {
  return { ...entry, hash: independentHash(entry) };
}
