// Offline verification of a journal file: streams it and checks the chain and every checkpoint.

import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CofferError } from '../core/errors.ts';
import type { ChainHead } from './audit-entry.ts';
import { ChainVerifier, type ChainFailure } from './chain-verifier.ts';
import { toEd25519PublicKey } from './checkpoint.ts';

export interface VerifyJournalOptions {
  /** The audit key (KeyObject, SPKI DER or raw Ed25519). When given, every checkpoint must carry a valid signature. */
  readonly publicKey?: KeyObject | Uint8Array;
  /**
   * The journal's checkpointEvery. When given, a run of more entries than this without a checkpoint
   * fails, so a forger without the key cannot simply drop every checkpoint and rewrite the chain.
   */
  readonly checkpointEvery?: number;
}

export type VerifyJournalResult =
  | { readonly ok: true; readonly entries: number; readonly checkpoints: number; readonly head: ChainHead }
  | { readonly ok: false; readonly code: 'AUDIT_CHAIN_INVALID'; readonly atSeq: number | undefined; readonly reason: string };

/** The size to verify up to, and whether its last line is torn (no final newline: never acknowledged). */
async function snapshot(path: string): Promise<{ size: number; torn: boolean }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size === 0) return { size, torn: false };
    const last = Buffer.alloc(1);
    await file.read(last, 0, 1, size - 1);
    return { size, torn: last[0] !== 0x0a };
  } finally {
    await file.close();
  }
}

/**
 * Verifies the journal at `path`. Chain problems come back as `{ ok: false }`; an unreadable file or
 * bad options throw (AUDIT_UNAVAILABLE, INVALID_ARGUMENT). The file is read up to its size at the
 * start, so a live journal can be verified while it grows; an unterminated last line is a torn write
 * that was never acknowledged, and is skipped as the journal skips it on open.
 */
export async function verifyJournal(path: string, options: VerifyJournalOptions = {}): Promise<VerifyJournalResult> {
  const every = options.checkpointEvery;
  if (every !== undefined && !(Number.isSafeInteger(every) && every > 0)) {
    throw new CofferError('INVALID_ARGUMENT', 'checkpointEvery must be a positive integer');
  }
  const publicKey = options.publicKey === undefined ? undefined : toEd25519PublicKey(options.publicKey);
  const verifier = new ChainVerifier({
    ...(publicKey === undefined ? {} : { publicKey }),
    ...(every === undefined ? {} : { checkpointEvery: every }),
  });

  let failure: ChainFailure | undefined;
  try {
    const { size, torn } = await snapshot(path);
    if (size > 0) {
      const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: size - 1 });
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      // Each line is checked when the next arrives, so the last one can be skipped if it is torn.
      let held: string | undefined;
      for await (const line of lines) {
        if (held !== undefined) failure = verifier.line(held);
        if (failure !== undefined) break;
        held = line;
      }
      lines.close();
      stream.destroy();
      if (failure === undefined && held !== undefined && !torn) failure = verifier.line(held);
    }
  } catch (error) {
    throw new CofferError('AUDIT_UNAVAILABLE', 'the audit journal cannot be read', { cause: error });
  }
  if (failure !== undefined) return { ok: false, code: 'AUDIT_CHAIN_INVALID', atSeq: failure.atSeq, reason: failure.reason };
  return { ok: true, entries: verifier.entries, checkpoints: verifier.checkpoints, head: verifier.head };
}

/** Like verifyJournal, but throws AUDIT_CHAIN_INVALID when the journal does not verify. */
export async function assertJournalValid(path: string, options: VerifyJournalOptions = {}): Promise<{ entries: number; checkpoints: number; head: ChainHead }> {
  const result = await verifyJournal(path, options);
  if (!result.ok) {
    const where = result.atSeq === undefined ? '' : ` at seq ${result.atSeq}`;
    throw new CofferError('AUDIT_CHAIN_INVALID', `the audit journal failed verification${where}: ${result.reason}`);
  }
  return { entries: result.entries, checkpoints: result.checkpoints, head: result.head };
}
