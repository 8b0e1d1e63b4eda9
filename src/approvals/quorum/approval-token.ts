// Approval tokens: what was requested, the digest that binds it, and the approvals gathered so far,
// kept barrier-encrypted in the store (kind 'approval-token') and changed only by compare-and-set.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../audit/canonical-json.ts';
import { CofferError } from '../../core/errors.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store, StoreWrite } from '../../store/index.ts';
import { isQuorumOperation, type QuorumOperation } from './operation-classes.ts';
import { isOfficerName } from './officer-names.ts';
import { SealedJsonStore, type SealedJson } from './sealed-json-store.ts';

const KIND = 'approval-token';
const PREFIX = 'quorum/token/';
const TOKEN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export type QuorumParameters = Readonly<Record<string, unknown>>;

/** Everything the token digest covers; an approver can recompute it from `show()`. */
export interface TokenBinding {
  readonly operation: QuorumOperation;
  readonly parameters: QuorumParameters;
  readonly requester: string;
  readonly tokenId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly policyVersion: number;
}

export interface Approval {
  readonly approver: string;
  /** base64url of the signature over quorumStatement(digest). */
  readonly signature: string;
  readonly approvedAt: string;
}

export interface ApprovalToken extends TokenBinding {
  /** Lowercase hex SHA-256 of canonicalJson(binding) (RFC 8785). */
  readonly digest: string;
  readonly approvals: readonly Approval[];
  readonly usedAt?: string;
  readonly usedBy?: string;
}

export function isTokenId(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_ID.test(value);
}

/** SHA-256 of the RFC 8785 encoding of the binding's fields only (never the approvals). */
export function quorumTokenDigest(binding: TokenBinding): string {
  const { operation, parameters, requester, tokenId, createdAt, expiresAt, policyVersion } = binding;
  const encoded = canonicalJson({ operation, parameters, requester, tokenId, createdAt, expiresAt, policyVersion });
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

function corrupt(): CofferError {
  return new CofferError('STORE_CORRUPT', 'a stored approval token is malformed');
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function parseApproval(value: unknown): Approval {
  if (typeof value !== 'object' || value === null) throw corrupt();
  const { approver, signature, approvedAt } = value as Record<string, unknown>;
  if (!isOfficerName(approver) || !isText(signature) || !isText(approvedAt)) throw corrupt();
  return { approver, signature, approvedAt };
}

function parseToken(value: unknown): ApprovalToken {
  if (typeof value !== 'object' || value === null) throw corrupt();
  const v = value as Record<string, unknown>;
  const { operation, parameters, requester, tokenId, createdAt, expiresAt, policyVersion, digest, approvals, usedAt, usedBy } = v;
  if (!isQuorumOperation(operation) || typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) throw corrupt();
  if (!isOfficerName(requester) || !isTokenId(tokenId) || !isText(createdAt) || !isText(expiresAt) || !isText(digest)) throw corrupt();
  if (typeof policyVersion !== 'number' || !Number.isSafeInteger(policyVersion) || !Array.isArray(approvals)) throw corrupt();
  if ((usedAt !== undefined && !isText(usedAt)) || (usedBy !== undefined && !isOfficerName(usedBy))) throw corrupt();
  return {
    operation, parameters: parameters as QuorumParameters, requester, tokenId, createdAt, expiresAt, policyVersion, digest,
    approvals: approvals.map(parseApproval),
    ...(usedAt === undefined ? {} : { usedAt }),
    ...(usedBy === undefined ? {} : { usedBy }),
  };
}

export interface StoredToken {
  readonly token: ApprovalToken;
  readonly version: number;
}

export class ApprovalTokenRepository {
  readonly #records: SealedJsonStore;

  constructor(store: Store, barrier: Barrier) {
    this.#records = new SealedJsonStore(store, barrier, KIND);
  }

  #decode(sealed: SealedJson): StoredToken {
    const token = parseToken(sealed.value);
    // The path is authenticated by the barrier; the id inside must agree with it, and the digest
    // must still be that of the binding (a record is never trusted to vouch for itself).
    if (sealed.path !== `${PREFIX}${token.tokenId}` || quorumTokenDigest(token) !== token.digest) {
      throw new CofferError('BARRIER_INTEGRITY_FAILED', 'a stored record failed authentication');
    }
    return { token, version: sealed.version };
  }

  async get(tokenId: string): Promise<StoredToken | undefined> {
    if (!isTokenId(tokenId)) return undefined;
    const sealed = await this.#records.get(`${PREFIX}${tokenId}`);
    return sealed === undefined ? undefined : this.#decode(sealed);
  }

  async list(): Promise<StoredToken[]> {
    return (await this.#records.list(PREFIX)).map((sealed) => this.#decode(sealed));
  }

  /** A conditional write of `token` over version `currentVersion` (0: a new token). */
  write(token: ApprovalToken, currentVersion: number): StoreWrite {
    return this.#records.write(`${PREFIX}${token.tokenId}`, token, currentVersion);
  }

  /** A conditional delete of the token at `currentVersion` (pruning). */
  remove(tokenId: string, currentVersion: number): StoreWrite {
    return this.#records.remove(`${PREFIX}${tokenId}`, currentVersion);
  }

  noteCommitted(token: ApprovalToken, currentVersion: number): void {
    this.#records.noteCommitted(`${PREFIX}${token.tokenId}`, currentVersion);
  }
}
