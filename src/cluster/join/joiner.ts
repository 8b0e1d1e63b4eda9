// The joining side: a sealed node whose store holds the domain descriptor writes a join request
// with an ephemeral X25519 key and its evidence, waits for an admitter's answer, unseals itself with
// the transferred key and removes its request (keeping the certificate an admitter issued for its CSR).
import { createCustodianKeyPair, type DomainKeyTransferBinding, type HpkeCiphertext } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';
import { checkNodeName, JOIN_TOKEN_PROVIDER, joinTokenId, joinTokenProof, type JoinTokenEvidence } from '../attestation/index.ts';
import { decodeJoinRequest, encodeJoinRequest, JOIN_REQUEST_PREFIX, JOIN_REQUEST_TTL_MS, newJoinRequest } from './join-request.ts';

/** What the evidence may be bound to (the join-token proof binds all of it; an EC2 document none). */
export interface JoinBinding extends DomainKeyTransferBinding {
  readonly domainId: string;
}

export interface JoinEvidence {
  readonly provider: string;
  evidence(binding: JoinBinding): unknown;
}

/** A join token as evidence: only its id and an HMAC proof bound to this request reach the store. */
export function joinTokenEvidence(token: string): JoinEvidence {
  const tokenId = joinTokenId(token);
  return {
    provider: JOIN_TOKEN_PROVIDER,
    evidence: (binding): JoinTokenEvidence => ({ tokenId, proof: joinTokenProof(token, binding) }),
  };
}

/** Evidence that is not bound to the request (an EC2 instance identity document and its signature). */
export function staticEvidence(provider: string, evidence: unknown): JoinEvidence {
  return { provider, evidence: () => evidence };
}

export interface JoinOptions {
  readonly store: Store;
  readonly domainId: string;
  readonly nodeName: string;
  readonly evidence: JoinEvidence;
  /** Unseals the node with the transferred key (CofferNode.unsealWithTransferredKey). */
  readonly unseal: (transfer: HpkeCiphertext, binding: DomainKeyTransferBinding, privateKey: Uint8Array) => Promise<unknown>;
  readonly clock?: Clock;
  /** Give up after this long (default and maximum: the request's 10-minute lifetime). */
  readonly timeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** A PKCS#10 request (PEM) for a TLS key the joiner made; an admitter configured to may certify it. */
  readonly csr?: string;
}

export interface JoinOutcome {
  readonly requestId: string;
  /**
   * The admitter's PEM chain for `csr` (leaf first), when it issued one. Read from the untrusted
   * store outside the HPKE box: the caller checks that the leaf is for its own key before using it.
   */
  readonly certificate?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs the join: JOIN_REFUSED if an admitter refused, JOIN_TIMEOUT if none answered, an
 * UNSEAL_SHARE_INVALID if the answer does not open (an altered or foreign answer). The request is
 * removed whatever the outcome, and the ephemeral private key wiped.
 */
export async function joinCluster(options: JoinOptions): Promise<JoinOutcome> {
  const clock = options.clock ?? systemClock;
  const nodeName = checkNodeName(options.nodeName);
  const timeoutMs = Math.min(options.timeoutMs ?? JOIN_REQUEST_TTL_MS, JOIN_REQUEST_TTL_MS);
  const keys = createCustodianKeyPair();
  const privateKey = Buffer.from(keys.privateKey, 'base64url');
  const request0 = newJoinRequest({ nodeName, publicKey: keys.publicKey, provider: options.evidence.provider, evidence: null, now: clock.now(), ...(options.csr === undefined ? {} : { csr: options.csr }) });
  const binding = { requestId: request0.requestId, nodeName, joinPublicKey: keys.publicKey };
  const request = { ...request0, evidence: options.evidence.evidence({ ...binding, domainId: options.domainId }) };
  const key = JOIN_REQUEST_PREFIX + request.requestId;
  const deadline = Date.now() + timeoutMs;
  try {
    await options.store.commit([{ op: 'put', key, value: encodeJoinRequest(request), expectVersion: 0 }]);
    for (;;) {
      const entry = await options.store.get(key);
      const answer = entry === undefined ? undefined : decodeJoinRequest(key, entry.value);
      // The answer must be for this very request: same key, name and public key.
      if (answer !== undefined && answer.publicKey === keys.publicKey && answer.nodeName === nodeName) {
        if (answer.status === 'refused') throw new CofferError('JOIN_REFUSED', 'the join request was refused');
        if (answer.status === 'admitted') {
          if (answer.transfer === undefined) throw new CofferError('UNSEAL_SHARE_INVALID', 'the transferred domain key could not be opened');
          await options.unseal(answer.transfer, binding, privateKey);
          return { requestId: request.requestId, ...(answer.certificate === undefined ? {} : { certificate: answer.certificate }) };
        }
      }
      if (Date.now() >= deadline) throw new CofferError('JOIN_TIMEOUT', 'no node answered the join request in time');
      await sleep(options.pollIntervalMs ?? 1000);
    }
  } finally {
    privateKey.fill(0);
    // Best effort: an admitter removes it later otherwise.
    await options.store.commit([{ op: 'delete', key }]).catch(() => undefined);
  }
}
