// /v1/quorum: approval keys, the quorum policy, and requests that officers approve and apply once.
// Approval signatures are made here, on the officer's side, over a digest recomputed from what the
// node shows: the node is never trusted to say what is being approved.
import type { KeyObject } from 'node:crypto';
import { quorumTokenDigest, signQuorumStatement } from '../approvals/quorum/index.ts';
import { CofferError } from '../core/errors.ts';
import type { AppliedOperation, ApprovalKeyInfo, QuorumOperation, QuorumParameters, QuorumPolicy, QuorumRules, QuorumSecret, QuorumToken } from './api-types.ts';
import { encodeBase64, type BytesLike } from './bytes.ts';
import type { Transport } from './transport.ts';

const segment = (value: string): string => encodeURIComponent(value);

export class QuorumApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Registers (or replaces) the caller's own approval public key: SPKI PEM text, or DER bytes. */
  async registerApprovalKey(publicKey: string | Uint8Array): Promise<ApprovalKeyInfo> {
    const body = { publicKey: typeof publicKey === 'string' ? publicKey : encodeBase64(publicKey) };
    return (await this.#http.send('PUT', '/v1/quorum/approval-key', { body })) as ApprovalKeyInfo;
  }

  /** QUORUM_POLICY_MISSING until the first policy is set. */
  async policy(): Promise<QuorumPolicy> {
    return (await this.#http.send('GET', '/v1/quorum/policy')) as QuorumPolicy;
  }

  /** Sets the first policy; after that only a quorum.policy-change request changes it. */
  async initializePolicy(rules: QuorumRules): Promise<QuorumPolicy> {
    return (await this.#http.send('POST', '/v1/quorum/policy', { body: { rules } })) as QuorumPolicy;
  }

  /** Officers request officer operations; a key's owner requests key.delete and key.export for it. */
  async request(operation: QuorumOperation, parameters: QuorumParameters): Promise<QuorumToken> {
    return (await this.#http.send('POST', '/v1/quorum/requests', { body: { operation, parameters } })) as QuorumToken;
  }

  /** Pending requests: neither used nor expired. */
  async list(): Promise<QuorumToken[]> {
    return ((await this.#http.send('GET', '/v1/quorum/requests')) as { requests: QuorumToken[] }).requests;
  }

  async show(tokenId: string): Promise<QuorumToken> {
    return (await this.#http.send('GET', `/v1/quorum/requests/${segment(tokenId)}`)) as QuorumToken;
  }

  /** Submits a signature of quorumStatement(digest) made with the caller's approval key. */
  async approve(tokenId: string, signature: BytesLike): Promise<QuorumToken> {
    return (await this.#http.send('POST', `/v1/quorum/requests/${segment(tokenId)}/approvals`, { body: { signature: encodeBase64(signature) } })) as QuorumToken;
  }

  /**
   * Fetches the request, recomputes its digest from the operation and parameters shown, signs that
   * with `privateKey` here and submits the signature. A node whose digest disagrees is refused
   * (APPROVAL_MISMATCH) before anything is signed.
   */
  async signAndApprove(tokenId: string, privateKey: KeyObject): Promise<QuorumToken> {
    const token = await this.show(tokenId);
    const digest = quorumTokenDigest(token);
    if (digest !== token.digest) throw new CofferError('APPROVAL_MISMATCH', 'the node shows a digest that does not match the request it describes');
    return this.approve(tokenId, signQuorumStatement(privateKey, digest));
  }

  /**
   * The requester spends an approved request once, with the parameters it was approved for: the node
   * runs the operation and `result` is what its direct route would have answered (null for none).
   * A token that binds a password needs it again here as `secret.password`.
   */
  async apply(tokenId: string, parameters: QuorumParameters, options: { secret?: QuorumSecret } = {}): Promise<AppliedOperation> {
    const body = { parameters, ...(options.secret === undefined ? {} : { secret: options.secret }) };
    return (await this.#http.send('POST', `/v1/quorum/requests/${segment(tokenId)}/apply`, { body })) as AppliedOperation;
  }
}
