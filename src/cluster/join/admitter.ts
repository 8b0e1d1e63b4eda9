// The admitting side of a cluster join, run by an unsealed node: reads pending join requests,
// verifies their evidence with the configured provider and answers each in place, admitting with
// the domain key HPKE-encrypted to the joiner in the same commit as the provider's single-use marker
// (and, with a certify hook, a TLS certificate for the joiner's CSR that names what was attested).
import type { Barrier } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import { systemClock, type AuditEvent, type AuditSink, type Clock } from '../../core/ports.ts';
import type { Store, StoreEntry, StoreWrite } from '../../store/index.ts';
import { AttestationRefused, type AdmittedIdentity, type AttestationProvider, type RefusalReason } from '../attestation/index.ts';
import {
  decodeJoinRequest, encodeJoinRequest, JOIN_REQUEST_PREFIX, JOIN_REQUEST_TTL_MS, MAX_JOIN_CERTIFICATE_CHARS, MAX_JOIN_REQUEST_BYTES, type JoinRequestRecord,
} from './join-request.ts';

export const DEFAULT_ADMIT_POLL_MS = 1000;

/** What the certify hook is asked: the joiner's CSR (untrusted until the hook parses it) and what was attested. */
export interface CertifyRequest {
  readonly csr: string;
  readonly nodeName: string;
  readonly identity: AdmittedIdentity;
  readonly requestId: string;
}

/** A certificate issued for a joiner: the chain goes in the answer, the rest in the audit entry. */
export interface NodeCertificate {
  /** PEM, leaf first, then the CA chain to the root. */
  readonly chain: string;
  readonly serialNumber: string;
  readonly caId: string;
  readonly subject: string;
}

/** Issues a certificate for an admitted joiner's CSR; undefined when this node issues none. */
export type CertifyHook = (request: CertifyRequest) => Promise<NodeCertificate | undefined>;

export interface AdmitterOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly provider: AttestationProvider;
  /** The audit sink of the current unsealed period (it changes at each unseal). */
  readonly audit: () => AuditSink;
  /** This node's id, recorded as the answering node. */
  readonly nodeId: string;
  readonly clock?: Clock;
  readonly pollIntervalMs?: number;
  /** Called with errors a background pass met (store down, audit failing); the loop goes on. */
  readonly onError?: (error: unknown) => void;
  /**
   * Certifies the joiner's CSR when its request has one (the server wires the built-in CA here; the
   * cluster layer knows no PKI). Its failure never stops an admission: the node joins without one.
   */
  readonly certify?: CertifyHook;
}

export interface AdmitPass {
  readonly admitted: number;
  readonly refused: number;
  readonly removed: number;
}

type Outcome = 'admitted' | 'refused' | 'removed' | 'none';

function isConflict(error: unknown): boolean {
  return error instanceof CofferError && error.code === 'STORE_CONFLICT';
}

export class Admitter {
  readonly #options: AdmitterOptions;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = true;

  constructor(options: AdmitterOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Polls every pollIntervalMs (default 1 s); wake() runs a pass at once (e.g. on a change-feed hint). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  wake(): void {
    if (this.#stopped) return;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.runOnce()).catch((error: unknown) => this.#options.onError?.(error)).finally(() => {
        if (!this.#stopped && this.#timer === undefined) this.#schedule(this.#options.pollIntervalMs ?? DEFAULT_ADMIT_POLL_MS);
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** One pass over cluster/join/; does nothing while the node is not unsealed. */
  async runOnce(): Promise<AdmitPass> {
    const counts = { admitted: 0, refused: 0, removed: 0 };
    if (this.#options.barrier.state !== 'UNSEALED') return counts;
    for (const entry of await this.#options.store.list(JOIN_REQUEST_PREFIX)) {
      const outcome = await this.#handle(entry);
      if (outcome !== 'none') counts[outcome]++;
    }
    return counts;
  }

  async #handle(entry: StoreEntry): Promise<Outcome> {
    const request = decodeJoinRequest(entry.key, entry.value);
    const now = this.#clock.now();
    if (request === undefined) return this.#remove(entry);
    const since = request.status === 'pending' ? request.createdAt : (request.answeredAt ?? request.createdAt);
    // Expired requests and answers the joiner never collected are removed.
    if (now.getTime() - Date.parse(since) > JOIN_REQUEST_TTL_MS) return this.#remove(entry);
    if (request.status !== 'pending') return 'none';
    const descriptor = this.#options.barrier.descriptor;
    if (descriptor === undefined) return 'none';
    const context = { nodeName: request.nodeName, joinPublicKey: request.publicKey, requestId: request.requestId, domainId: descriptor.domainId, now };
    try {
      if (request.provider !== this.#options.provider.kind) throw new AttestationRefused('PROVIDER_MISMATCH');
      const result = await this.#options.provider.verify(request.evidence, context);
      return await this.#admit(entry, request, result.identity, result.claim, () => {
        result.committed();
      });
    } catch (error) {
      if (!(error instanceof AttestationRefused)) throw error;
      return this.#refuse(entry, request, error.reason, error.subject);
    }
  }

  async #admit(entry: StoreEntry, request: JoinRequestRecord, identity: AdmittedIdentity, claim: readonly StoreWrite[], committed: () => void): Promise<Outcome> {
    const binding = { requestId: request.requestId, nodeName: request.nodeName, joinPublicKey: request.publicKey };
    const transfer = await this.#options.barrier.sealDomainKeyTo(binding);
    const now = this.#clock.now().toISOString();
    const admitted: JoinRequestRecord = { ...request, status: 'admitted', transfer, answeredAt: now, answeredBy: this.#options.nodeId };
    const detail = { ...this.#detail(request, identity.provider, identity.subject), ...(identity.instanceId === undefined ? {} : { instanceId: identity.instanceId }) };
    const certificate = await this.#certify(admitted, identity, detail);
    const answered: JoinRequestRecord = certificate === undefined ? admitted : { ...admitted, certificate };
    // Audited before the key is released: no admission without its entry.
    await this.#audit('cluster.join.admit', request, 'ALLOWED', detail);
    try {
      await this.#options.store.commit([...claim, { op: 'put', key: entry.key, value: encodeJoinRequest(answered), expectVersion: entry.version }]);
    } catch (error) {
      const code = error instanceof CofferError ? error.code : 'INTERNAL_ERROR';
      // Another admitter answered first, or the evidence was spent meanwhile: nothing was released here.
      await this.#audit('cluster.join.admit', request, 'FAILED', detail, code);
      if (isConflict(error)) return 'none';
      throw error;
    }
    committed();
    return 'admitted';
  }

  /** The joiner's certificate chain, or undefined (no CSR, no hook, or a failure, audited FAILED with its code). */
  async #certify(admitted: JoinRequestRecord, identity: AdmittedIdentity, detail: Record<string, string>): Promise<string | undefined> {
    const certify = this.#options.certify;
    if (admitted.csr === undefined || certify === undefined) return undefined;
    let issued: NodeCertificate | undefined;
    try {
      issued = await certify({ csr: admitted.csr, nodeName: admitted.nodeName, identity, requestId: admitted.requestId });
      if (issued === undefined) return undefined;
      // The answer must still decode at the joiner: a chain past the record's bounds is not sent.
      const size = Buffer.byteLength(JSON.stringify({ ...admitted, certificate: issued.chain }), 'utf8');
      if (issued.chain.length > MAX_JOIN_CERTIFICATE_CHARS || size > MAX_JOIN_REQUEST_BYTES) {
        throw new CofferError('INVALID_ARGUMENT', 'the node certificate chain does not fit in the join answer');
      }
    } catch (error) {
      if (!(error instanceof CofferError)) this.#options.onError?.(error);
      const failed = issued === undefined ? detail : { ...detail, ...this.#certificateDetail(issued) };
      await this.#audit('cluster.join.certificate', admitted, 'FAILED', failed, error instanceof CofferError ? error.code : 'INTERNAL_ERROR');
      return undefined;
    }
    await this.#audit('cluster.join.certificate', admitted, 'ALLOWED', { ...detail, ...this.#certificateDetail(issued) });
    return issued.chain;
  }

  #certificateDetail(issued: NodeCertificate): Record<string, string> {
    // Never the CSR or the certificate: what identifies the certificate is enough to find or revoke it.
    return { serialNumber: issued.serialNumber, caId: issued.caId, certificateSubject: issued.subject };
  }

  async #refuse(entry: StoreEntry, request: JoinRequestRecord, reason: RefusalReason, subject: string | undefined): Promise<Outcome> {
    const answered: JoinRequestRecord = { ...request, status: 'refused', reason: 'JOIN_REFUSED', answeredAt: this.#clock.now().toISOString(), answeredBy: this.#options.nodeId };
    try {
      await this.#options.store.commit([{ op: 'put', key: entry.key, value: encodeJoinRequest(answered), expectVersion: entry.version }]);
    } catch (error) {
      if (isConflict(error)) return 'none';
      throw error;
    }
    await this.#audit('cluster.join.refuse', request, 'DENIED', { ...this.#detail(request, request.provider, subject ?? 'unknown'), reason }, 'JOIN_REFUSED');
    return 'refused';
  }

  async #remove(entry: StoreEntry): Promise<Outcome> {
    try {
      await this.#options.store.commit([{ op: 'delete', key: entry.key, expectVersion: entry.version }]);
      return 'removed';
    } catch (error) {
      if (isConflict(error)) return 'none';
      throw error;
    }
  }

  #detail(request: JoinRequestRecord, provider: string, subject: string): Record<string, string> {
    // Public values only: never the evidence, a token, a proof or the transferred key.
    return { provider, subject, nodeName: request.nodeName, joinRequestId: request.requestId, joinPublicKey: request.publicKey };
  }

  async #audit(operation: string, request: JoinRequestRecord, outcome: AuditEvent['outcome'], detail: Record<string, string>, errorCode?: string): Promise<void> {
    await this.#options.audit().append({
      time: this.#clock.now().toISOString(), principal: `node:${request.nodeName}`, operation, outcome, requestId: request.requestId, detail,
      ...(errorCode === undefined ? {} : { errorCode }),
    });
  }
}
