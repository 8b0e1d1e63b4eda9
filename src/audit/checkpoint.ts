// Signed checkpoints: a Merkle tree head over the journal's entries, signed with the audit key.

import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { isHexHash } from './audit-entry.ts';
import { canonicalJson } from './canonical-json.ts';

/** Signs checkpoints with Ed25519. `publicKey` is SPKI DER, a raw 32-byte key or a KeyObject. */
export interface CheckpointSigner {
  sign(data: Uint8Array): Uint8Array;
  readonly publicKey: KeyObject | Uint8Array;
}

/** A checkpoint line. It sits in the file right after entry `treeSize - 1`, outside the entry chain. */
export interface Checkpoint {
  readonly type: 'checkpoint';
  /** Entries covered: seq 0 .. treeSize - 1. */
  readonly treeSize: number;
  /** RFC 9162 tree head over the entries' leaf hashes, hex. */
  readonly rootHash: string;
  readonly time: string;
  readonly node: string;
  /** Subtree roots of the tree, largest first: lets a reopened journal resume without a rescan. Unsigned (derivable). */
  readonly range: readonly string[];
  /** Base64 Ed25519 signature over checkpointPayload(); absent when the journal has no signer. */
  readonly signature?: string;
}

// Domain separation: a checkpoint signature can never be mistaken for a signature over other data.
const PAYLOAD_PREFIX = 'coffer-audit-checkpoint/v1\n';
const PROBE = Buffer.from('coffer-audit-signer-probe/v1\n');
// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4) before the 32 raw key bytes.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const CHECKPOINT_FIELDS: ReadonlySet<string> = new Set(['type', 'treeSize', 'rootHash', 'time', 'node', 'range', 'signature']);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The signed bytes: a fixed prefix, then the RFC 8785 JSON of (node, rootHash, time, treeSize). */
export function checkpointPayload(checkpoint: Pick<Checkpoint, 'treeSize' | 'rootHash' | 'time' | 'node'>): Buffer {
  const { treeSize, rootHash, time, node } = checkpoint;
  return Buffer.from(PAYLOAD_PREFIX + canonicalJson({ node, rootHash, time, treeSize }), 'utf8');
}

/** Builds a checkpoint, signing it when a signer is given. Signer failures propagate to the caller. */
export function createCheckpoint(
  fields: { treeSize: number; rootHash: string; time: string; node: string; range: readonly string[] },
  signer: CheckpointSigner | undefined,
): Checkpoint {
  const unsigned: Checkpoint = { type: 'checkpoint', ...fields };
  if (signer === undefined) return unsigned;
  const signature = Buffer.from(signer.sign(checkpointPayload(unsigned))).toString('base64');
  return { ...unsigned, signature };
}

export function encodeCheckpoint(checkpoint: Checkpoint): string {
  return `${JSON.stringify(checkpoint)}\n`;
}

/** Why a parsed `type: 'checkpoint'` record is malformed, or undefined. */
export function checkpointShapeProblem(record: Readonly<Record<string, unknown>>): string | undefined {
  for (const key in record) if (!CHECKPOINT_FIELDS.has(key)) return 'a checkpoint has an unknown field';
  if (!(Number.isSafeInteger(record['treeSize']) && (record['treeSize'] as number) >= 0)) return 'checkpoint treeSize is malformed';
  if (!isHexHash(record['rootHash'])) return 'checkpoint rootHash is malformed';
  if (typeof record['time'] !== 'string' || record['time'] === '') return 'checkpoint time is malformed';
  if (typeof record['node'] !== 'string' || record['node'] === '') return 'checkpoint node is malformed';
  const range = record['range'];
  if (!Array.isArray(range) || !range.every(isHexHash)) return 'checkpoint range is malformed';
  const signature = record['signature'];
  if (signature !== undefined && !(typeof signature === 'string' && BASE64.test(signature))) return 'checkpoint signature is malformed';
  return undefined;
}

/** An Ed25519 public KeyObject from a KeyObject, SPKI DER, or the raw 32-byte key; INVALID_ARGUMENT otherwise. */
export function toEd25519PublicKey(key: KeyObject | Uint8Array): KeyObject {
  let publicKey: KeyObject;
  try {
    if (key instanceof Uint8Array) {
      const der = key.length === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, key]) : Buffer.from(key);
      publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } else {
      publicKey = key.type === 'public' ? key : createPublicKey(key);
    }
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', 'the audit public key cannot be read', { cause: error });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new CofferError('INVALID_ARGUMENT', 'the audit key must be Ed25519');
  return publicKey;
}

export function verifyCheckpointSignature(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  if (checkpoint.signature === undefined) return false;
  return verify(null, checkpointPayload(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
}

/** Checks once, at open, that the signer's signatures verify under its public key: a misconfigured key fails early. */
export function checkSigner(signer: CheckpointSigner): void {
  const publicKey = toEd25519PublicKey(signer.publicKey);
  let valid: boolean;
  try {
    valid = verify(null, PROBE, publicKey, signer.sign(PROBE));
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', 'the checkpoint signer cannot sign', { cause: error });
  }
  if (!valid) throw new CofferError('INVALID_ARGUMENT', "the checkpoint signer's signatures do not match its public key");
}
