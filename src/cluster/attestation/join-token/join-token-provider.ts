// Join tokens: issued by an officer, single-use, short-lived, optionally bound to a node name. The
// cluster keeps only a hash, barrier-sealed at cluster/join-token/<id>; the joiner proves it holds
// the token with an HMAC bound to its request, so the token itself never reaches the store.
import { SealedJsonStore } from '../../../approvals/quorum/sealed-json-store.ts';
import type { Barrier } from '../../../barrier/index.ts';
import type { Caller } from '../../../core/engine/index.ts';
import { CofferError } from '../../../core/errors.ts';
import { systemClock, type AuditSink, type Clock } from '../../../core/ports.ts';
import type { Store } from '../../../store/index.ts';
import { refuse, type AttestationContext, type AttestationProvider, type AttestationResult } from '../attestation-provider.ts';
import { checkNodeName, isNodeName } from '../node-name.ts';
import { joinTokenHash, joinTokenId, newJoinToken, proofMatches, TOKEN_ID } from './join-token-secret.ts';

export const JOIN_TOKEN_PROVIDER = 'join-token';
export const JOIN_TOKEN_PREFIX = 'cluster/join-token/';
const RECORD_KIND = 'cluster.join-token';
export const DEFAULT_TOKEN_LIFETIME_S = 600;
export const MAX_TOKEN_LIFETIME_S = 86_400;
const MIN_TOKEN_LIFETIME_S = 60;

/** The sealed record. `tokenHash` is never returned by any API. */
interface JoinTokenRecord {
  readonly tokenId: string;
  readonly tokenHash: string;
  readonly issuer: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly nodeName?: string;
  readonly usedAt?: string;
  readonly usedByRequest?: string;
}

export interface IssuedJoinToken {
  readonly tokenId: string;
  /** Shown once; the cluster cannot show it again. */
  readonly token: string;
  readonly expiresAt: string;
  readonly nodeName?: string;
}

export interface JoinTokenRequest {
  readonly nodeName?: string;
  readonly expiresInSeconds?: number;
}

/** Evidence a joiner presents: the token's id and an HMAC proof (see join-token-secret.ts). */
export interface JoinTokenEvidence {
  readonly tokenId: string;
  readonly proof: string;
}

function parseRecord(value: unknown): JoinTokenRecord {
  const r = value as Partial<JoinTokenRecord> | null;
  if (typeof r !== 'object' || r === null || typeof r.tokenId !== 'string' || typeof r.tokenHash !== 'string' || typeof r.expiresAt !== 'string') {
    throw new CofferError('STORE_CORRUPT', 'a stored join token is malformed');
  }
  return r as JoinTokenRecord;
}

function parseEvidence(evidence: unknown): JoinTokenEvidence {
  const e = evidence as Partial<JoinTokenEvidence> | null;
  if (typeof e !== 'object' || e === null || typeof e.tokenId !== 'string' || !TOKEN_ID.test(e.tokenId) || typeof e.proof !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(e.proof)) {
    throw refuse('EVIDENCE_MALFORMED');
  }
  return { tokenId: e.tokenId, proof: e.proof };
}

export interface JoinTokenOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly clock?: Clock;
}

export class JoinTokenProvider implements AttestationProvider {
  readonly kind = JOIN_TOKEN_PROVIDER;
  readonly #records: SealedJsonStore;
  readonly #store: Store;
  readonly #barrier: Barrier;
  readonly #clock: Clock;

  constructor(options: JoinTokenOptions) {
    this.#store = options.store;
    this.#barrier = options.barrier;
    this.#records = new SealedJsonStore(options.store, options.barrier, RECORD_KIND);
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * An officer issues a token (lifetime 60 s-24 h, default 10 min). Audited as cluster.join-token.issue
   * with the token's id, never the token. Quorum enforcement is the caller's (the route, or the
   * node.admit quorum handler).
   */
  async issue(caller: Caller, audit: AuditSink, request: JoinTokenRequest = {}): Promise<IssuedJoinToken> {
    const base = { time: this.#clock.now().toISOString(), principal: caller.principal, operation: 'cluster.join-token.issue', requestId: caller.requestId };
    try {
      if (!caller.roles.includes('officer')) throw new CofferError('ACCESS_DENIED', 'only officers issue join tokens');
      const lifetime = request.expiresInSeconds ?? DEFAULT_TOKEN_LIFETIME_S;
      if (!Number.isSafeInteger(lifetime) || lifetime < MIN_TOKEN_LIFETIME_S || lifetime > MAX_TOKEN_LIFETIME_S) {
        throw new CofferError('INVALID_ARGUMENT', `expiresInSeconds must be an integer from ${MIN_TOKEN_LIFETIME_S} to ${MAX_TOKEN_LIFETIME_S}`);
      }
      const nodeName = request.nodeName === undefined ? undefined : checkNodeName(request.nodeName);
      const token = newJoinToken();
      const now = this.#clock.now();
      const record: JoinTokenRecord = {
        tokenId: joinTokenId(token), tokenHash: joinTokenHash(token), issuer: caller.principal, createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + lifetime * 1000).toISOString(), ...(nodeName === undefined ? {} : { nodeName }),
      };
      await this.#records.put(JOIN_TOKEN_PREFIX + record.tokenId, record, 0);
      await audit.append({ ...base, outcome: 'ALLOWED', detail: { tokenId: record.tokenId, expiresAt: record.expiresAt, ...(nodeName === undefined ? {} : { nodeName }) } });
      return { tokenId: record.tokenId, token, expiresAt: record.expiresAt, ...(nodeName === undefined ? {} : { nodeName }) };
    } catch (error) {
      const code = error instanceof CofferError ? error.code : 'INTERNAL_ERROR';
      await audit.append({ ...base, outcome: code === 'ACCESS_DENIED' ? 'DENIED' : 'FAILED', errorCode: code });
      throw error;
    }
  }

  async verify(evidence: unknown, context: AttestationContext): Promise<AttestationResult> {
    const { tokenId, proof } = parseEvidence(evidence);
    const path = JOIN_TOKEN_PREFIX + tokenId;
    const stored = await this.#records.get(path);
    if (stored === undefined) throw refuse('TOKEN_UNKNOWN', tokenId);
    const record = parseRecord(stored.value);
    // The proof first: only a holder of the token learns (through the audit) anything more precise.
    if (!proofMatches(record.tokenHash, context, proof)) throw refuse('TOKEN_PROOF_INVALID', tokenId);
    if (record.usedAt !== undefined) throw refuse('TOKEN_USED', tokenId);
    if (context.now.getTime() >= Date.parse(record.expiresAt)) throw refuse('TOKEN_EXPIRED', tokenId);
    if (record.nodeName !== undefined && record.nodeName !== context.nodeName) throw refuse('TOKEN_NODE_NAME', tokenId);
    if (!isNodeName(context.nodeName)) throw refuse('REQUEST_MALFORMED', tokenId);
    const used: JoinTokenRecord = { ...record, usedAt: context.now.toISOString(), usedByRequest: context.requestId };
    return {
      identity: { provider: this.kind, subject: `join-token:${tokenId}` },
      // Compare-and-set on the version read: a second admission with this token conflicts.
      claim: [this.#records.write(path, used, stored.version)],
      committed: () => {
        this.#records.noteCommitted(path, stored.version);
      },
    };
  }

  /** Deletes tokens that expired more than `graceMs` ago (used or not); returns how many. */
  async prune(graceMs = 24 * 3600 * 1000): Promise<number> {
    const now = this.#clock.now().getTime();
    let removed = 0;
    for (const stored of await this.#records.list(JOIN_TOKEN_PREFIX)) {
      const record = parseRecord(stored.value);
      if (Date.parse(record.expiresAt) + graceMs > now) continue;
      try {
        await this.#store.commit([this.#records.remove(stored.path, stored.version)]);
        this.#barrier.forget(RECORD_KIND, stored.path);
        removed++;
      } catch (error) {
        if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT')) throw error;
      }
    }
    return removed;
  }
}
