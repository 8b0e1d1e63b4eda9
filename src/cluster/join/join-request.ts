// The join request record at cluster/join/<requestId>: plain JSON, written by the joiner (which holds
// no key yet) and answered in place by an admitter. Everything in it is untrusted until verified.
import { randomUUID } from 'node:crypto';
import type { HpkeCiphertext } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import { isNodeName } from '../attestation/index.ts';

export const JOIN_REQUEST_PREFIX = 'cluster/join/';
/** A request nobody answered within this is removed; the joiner gives up before then. */
export const JOIN_REQUEST_TTL_MS = 10 * 60 * 1000;
export const MAX_JOIN_REQUEST_BYTES = 32 * 1024;
/** A P-256 CSR with a few names is under 1 KiB of PEM; 8 KiB leaves room and bounds what an admitter parses. */
export const MAX_JOIN_CSR_CHARS = 8 * 1024;
/** Leaf and CA chain as PEM: a handful of certificates, well inside the record's 32 KiB with the transfer. */
export const MAX_JOIN_CERTIFICATE_CHARS = 16 * 1024;
const FORMAT_VERSION = 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const X25519_B64URL = /^[A-Za-z0-9_-]{43}$/;
const PROVIDER = /^[a-z0-9-]{1,32}$/;

export type JoinStatus = 'pending' | 'admitted' | 'refused';

export interface JoinRequestRecord {
  readonly formatVersion: typeof FORMAT_VERSION;
  readonly requestId: string;
  readonly nodeName: string;
  /** The joiner's ephemeral raw X25519 public key, base64url. */
  readonly publicKey: string;
  readonly provider: string;
  readonly evidence: unknown;
  readonly createdAt: string;
  readonly status: JoinStatus;
  /** A PKCS#10 request (PEM) for a TLS key the joiner made for itself; the admitter may certify it. */
  readonly csr?: string;
  /** When admitted: the domain key HPKE-encrypted to publicKey (Barrier.sealDomainKeyTo). */
  readonly transfer?: HpkeCiphertext;
  /** When admitted and the CSR was certified: the PEM chain, leaf first, then the CA chain to the root. */
  readonly certificate?: string;
  /** When refused: always JOIN_REFUSED; the precise reason stays in the admitting node's audit. */
  readonly reason?: 'JOIN_REFUSED';
  readonly answeredAt?: string;
  readonly answeredBy?: string;
}

export function newJoinRequest(fields: { nodeName: string; publicKey: string; provider: string; evidence: unknown; now: Date; csr?: string }): JoinRequestRecord {
  if (fields.csr !== undefined && !isPemText(fields.csr, MAX_JOIN_CSR_CHARS)) {
    throw new CofferError('INVALID_ARGUMENT', `the join request's CSR must be PEM text of at most ${MAX_JOIN_CSR_CHARS} characters`);
  }
  return {
    formatVersion: FORMAT_VERSION, requestId: randomUUID(), nodeName: fields.nodeName, publicKey: fields.publicKey, provider: fields.provider,
    evidence: fields.evidence, createdAt: fields.now.toISOString(), status: 'pending', ...(fields.csr === undefined ? {} : { csr: fields.csr }),
  };
}

/** Non-empty printable ASCII lines (what PEM is), at most `max` characters: checked before anything parses it. */
function isPemText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && /^[\x20-\x7e\r\n]+$/.test(value);
}

function isOptionalPem(value: unknown, max: number): boolean {
  return value === undefined || isPemText(value, max);
}

export function encodeJoinRequest(record: JoinRequestRecord): Buffer {
  const bytes = Buffer.from(JSON.stringify(record), 'utf8');
  if (bytes.length > MAX_JOIN_REQUEST_BYTES) throw new CofferError('INVALID_ARGUMENT', 'the join evidence is too large');
  return bytes;
}

/** Parses a stored request; undefined when it is not a well-formed one (it is then removed, never trusted). */
export function decodeJoinRequest(key: string, value: Uint8Array): JoinRequestRecord | undefined {
  if (value.length > MAX_JOIN_REQUEST_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const r = parsed as Record<string, unknown>;
  const ok = r['formatVersion'] === FORMAT_VERSION && typeof r['requestId'] === 'string' && UUID.test(r['requestId']) && key === JOIN_REQUEST_PREFIX + r['requestId']
    && isNodeName(r['nodeName']) && typeof r['publicKey'] === 'string' && X25519_B64URL.test(r['publicKey'])
    && typeof r['provider'] === 'string' && PROVIDER.test(r['provider']) && typeof r['createdAt'] === 'string' && !Number.isNaN(Date.parse(r['createdAt']))
    && (r['status'] === 'pending' || r['status'] === 'admitted' || r['status'] === 'refused')
    && isOptionalPem(r['csr'], MAX_JOIN_CSR_CHARS) && isOptionalPem(r['certificate'], MAX_JOIN_CERTIFICATE_CHARS);
  return ok ? (parsed as JoinRequestRecord) : undefined;
}
