// /v1/key-use: approval for key use. A requester asks for a use of a key whose policy names
// approvers and fetches the result once M of them approved; an approver signs, on their own machine,
// a statement over a digest recomputed here from what the node shows (the node is never trusted to
// say what is being approved) and, for a sealed key, re-seals their share to the request's key.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { keyUseRequestDigest, releaseShare, signApproval, signRejection } from '../approvals/key-use/approver-side.ts';
import { MAX_WAIT_SECONDS } from '../approvals/key-use/key-use-types.ts';
import { CofferError } from '../core/errors.ts';
import type {
  ApproverKeysInfo, KeyRef, KeyUseInput, KeyUseOutcome, KeyUseRequestOptions, KeyUseRequestView, KeyUseResult, ReleasedShare, ShareForApprover,
} from './api-types.ts';
import { decodeBase64, encodeBase64, type BytesLike } from './bytes.ts';
import { protocolError } from './client-errors.ts';
import type { Transport } from './transport.ts';
import { parseKeyRef } from './key-api.ts';

type Json = Record<string, unknown>;

const segment = (value: string): string => encodeURIComponent(value);

/** An approver's private keys, as `coffer approver keygen` writes them; they never leave this process. */
export interface ApproverKeys {
  /** Ed25519 or ECDSA P-256: signs approve and reject statements. */
  readonly signingKey: KeyObject;
  /** X25519 (a private key object, or its 32 raw bytes): opens this approver's shares of sealed keys. Needed only for sealed keys. */
  readonly shareKey?: KeyObject | Uint8Array;
}

/** The public halves to register: keys (a private KeyObject gives its public half, computed here), PEM or DER. */
export interface ApproverPublicKeys {
  readonly signingKey: KeyObject | string | Uint8Array;
  /** Raw X25519 public key (32 bytes, or base64url), or an X25519 KeyObject. */
  readonly shareKey?: KeyObject | string | Uint8Array;
}

/** Byte fields of a request body, per use: base64 on the wire (as /v1/crypto). */
const REQUEST_BYTES: Readonly<Record<KeyUseInput['use'], readonly string[]>> = {
  sign: ['message', 'digest'],
  decrypt: ['ciphertext'],
  unwrap: ['wrappedMaterial'],
  export: [],
  rotate: [],
  'change-approvers': [],
};
/** Fields naming a key: a `project/name` string is sent as {project, name}, an id as is. */
const KEY_FIELDS = ['key', 'wrappingKey'];
/** Byte fields of a result (sign, decrypt, export): whichever is present is decoded. */
const RESULT_BYTES = ['signature', 'plaintext', 'wrappedKey'];
/** States after which the result never changes. */
const FINAL_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'rejected', 'expired']);
/** Kept below the client's deadline, so that a long-poll answers before the request times out. */
const DEADLINE_MARGIN_SECONDS = 5;

function keyRefField(ref: KeyRef): string | { project: string; name: string } {
  const parsed = parseKeyRef(ref);
  return 'id' in parsed ? parsed.id : { project: parsed.project, name: parsed.name };
}

function encodeInput(input: KeyUseInput, options: KeyUseRequestOptions): Json {
  const body: Json = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (REQUEST_BYTES[input.use].includes(name)) body[name] = encodeBase64(value as BytesLike);
    else if (KEY_FIELDS.includes(name)) body[name] = keyRefField(value as KeyRef);
    else body[name] = value;
  }
  if (options.expiresInSeconds !== undefined) body['expiresInSeconds'] = options.expiresInSeconds;
  if (options.metadata !== undefined) body['metadata'] = options.metadata;
  return body;
}

function decodeOutcome(answer: unknown): KeyUseOutcome {
  if (typeof answer !== 'object' || answer === null) throw protocolError('the key-use result is not an object', 200, undefined);
  const outcome = answer as Json;
  const result = outcome['result'];
  if (result === undefined) return outcome as unknown as KeyUseOutcome;
  if (typeof result !== 'object' || result === null) throw protocolError('the key-use result is not an object', 200, undefined);
  const fields: Json = { ...(result as Json) };
  for (const name of RESULT_BYTES) if (fields[name] !== undefined) fields[name] = decodeBase64(fields[name], name);
  return { ...(outcome as unknown as KeyUseOutcome), result: fields as unknown as KeyUseResult };
}

function spkiOf(key: KeyObject | string | Uint8Array): string {
  if (typeof key === 'string') return key;
  if (key instanceof Uint8Array) return encodeBase64(key);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** A raw X25519 public key as base64url (43 characters), from a key object or its bytes. */
export function x25519PublicKeyText(key: KeyObject | string | Uint8Array): string {
  if (typeof key === 'string') return key;
  if (key instanceof Uint8Array) return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url');
  if (key.asymmetricKeyType !== 'x25519') throw new CofferError('INVALID_ARGUMENT', 'a share key is an X25519 key');
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new CofferError('INVALID_ARGUMENT', 'a share key is an X25519 key');
  return x;
}

/** The raw 32 bytes of an X25519 private key (RFC 7748), as HPKE takes them. */
function rawX25519PrivateKey(key: KeyObject | Uint8Array): Uint8Array {
  if (key instanceof Uint8Array) return key;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'x25519') throw new CofferError('INVALID_ARGUMENT', 'a share key is an X25519 private key');
  const { d } = key.export({ format: 'jwk' });
  if (typeof d !== 'string') throw new CofferError('INVALID_ARGUMENT', 'a share key is an X25519 private key');
  return Buffer.from(d, 'base64url');
}

/** What an approver must check before signing: the digest recomputed from the binding shown. */
function checkedDigest(view: KeyUseRequestView): string {
  const digest = keyUseRequestDigest(view);
  if (digest !== view.digest) {
    throw new CofferError('APPROVAL_MISMATCH', 'the node shows a digest that does not match the request it describes: nothing was signed');
  }
  return digest;
}

export class KeyUseApi {
  readonly #http: Transport;
  readonly #timeoutMs: number;

  constructor(http: Transport, timeoutMs: number) {
    this.#http = http;
    this.#timeoutMs = timeoutMs;
  }

  /** Registers (or replaces) the caller's own approver keys: only public halves are sent. */
  async registerApproverKeys(keys: ApproverPublicKeys): Promise<ApproverKeysInfo> {
    const body = { signingKey: spkiOf(keys.signingKey), ...(keys.shareKey === undefined ? {} : { shareKey: x25519PublicKeyText(keys.shareKey) }) };
    return (await this.#http.send('PUT', '/v1/key-use/approver-keys', { body })) as ApproverKeysInfo;
  }

  async approverKeys(principal: string): Promise<ApproverKeysInfo> {
    return (await this.#http.send('GET', `/v1/key-use/approver-keys/${segment(principal)}`)) as ApproverKeysInfo;
  }

  /** Asks for one use of a key with an approval policy; the answer is the pending request. */
  async request(input: KeyUseInput, options: KeyUseRequestOptions = {}): Promise<KeyUseRequestView> {
    return (await this.#http.send('POST', '/v1/key-use/requests', { body: encodeInput(input, options) })) as KeyUseRequestView;
  }

  /** approver (default): pending requests waiting for the caller; requester: the caller's own. */
  async list(role: 'approver' | 'requester' = 'approver'): Promise<KeyUseRequestView[]> {
    return ((await this.#http.send('GET', '/v1/key-use/requests', { query: { role } })) as { requests: KeyUseRequestView[] }).requests;
  }

  async show(requestId: string): Promise<KeyUseRequestView> {
    return (await this.#http.send('GET', `/v1/key-use/requests/${segment(requestId)}`)) as KeyUseRequestView;
  }

  /** A listed approver's share of a sealed key, still sealed to their share key. */
  async share(requestId: string): Promise<ShareForApprover> {
    return (await this.#http.send('GET', `/v1/key-use/requests/${segment(requestId)}/share`)) as ShareForApprover;
  }

  /** Submits a signature made elsewhere; prefer approveAsApprover, which recomputes the digest first. */
  async approve(requestId: string, approval: { signature: BytesLike; releasedShare?: ReleasedShare }): Promise<KeyUseRequestView> {
    const body = { signature: encodeBase64(approval.signature), ...(approval.releasedShare === undefined ? {} : { releasedShare: approval.releasedShare }) };
    return (await this.#http.send('POST', `/v1/key-use/requests/${segment(requestId)}/approve`, { body })) as KeyUseRequestView;
  }

  async reject(requestId: string, rejection: { signature: BytesLike; reason?: string }): Promise<KeyUseRequestView> {
    const body = { signature: encodeBase64(rejection.signature), ...(rejection.reason === undefined ? {} : { reason: rejection.reason }) };
    return (await this.#http.send('POST', `/v1/key-use/requests/${segment(requestId)}/reject`, { body })) as KeyUseRequestView;
  }

  /** The requester's result; with waitSeconds (≤ 60) the node answers once the use ran or the wait ends. */
  async result(requestId: string, options: { waitSeconds?: number } = {}): Promise<KeyUseOutcome> {
    const query = options.waitSeconds === undefined ? {} : { waitSeconds: options.waitSeconds };
    return decodeOutcome(await this.#http.send('GET', `/v1/key-use/requests/${segment(requestId)}/result`, { query }));
  }

  /**
   * Long-polls until the request reaches a final state or `timeoutSeconds` pass; returns the last
   * outcome (status pending or running when the time ran out).
   */
  async waitForResult(requestId: string, timeoutSeconds: number): Promise<KeyUseOutcome> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    const perPoll = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(this.#timeoutMs / 1000) - DEADLINE_MARGIN_SECONDS));
    for (;;) {
      const remaining = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      const outcome = await this.result(requestId, { waitSeconds: Math.min(perPoll, remaining) });
      if (FINAL_STATES.has(outcome.status) || Date.now() >= deadline) return outcome;
      // A client whose deadline is too short to long-poll polls once a second instead.
      if (perPoll === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now()))));
    }
  }

  /**
   * Approves as an approver: fetches the request, recomputes its digest from the binding shown
   * (APPROVAL_MISMATCH, before anything is signed, when the node's differs), signs the approve
   * statement with `keys.signingKey` and, for a sealed key, opens this approver's share with
   * `keys.shareKey` and re-seals it to the request's ephemeral key.
   */
  async approveAsApprover(requestId: string, keys: ApproverKeys): Promise<KeyUseRequestView> {
    const view = await this.show(requestId);
    const digest = checkedDigest(view);
    if (!view.sealed) return this.approve(requestId, { signature: signApproval(keys.signingKey, digest) });
    if (keys.shareKey === undefined) throw new CofferError('INVALID_ARGUMENT', 'approving a sealed key needs your X25519 share key');
    const share = await this.share(requestId);
    // The share must be for exactly the request whose digest was just recomputed.
    if (share.requestId !== view.requestId || share.keyId !== view.keyId || share.digest !== digest || share.ephemeralPublicKey !== view.ephemeralPublicKey) {
      throw new CofferError('APPROVAL_MISMATCH', 'the share the node sent belongs to another request');
    }
    const raw = rawX25519PrivateKey(keys.shareKey);
    let releasedShare: ReleasedShare;
    try {
      releasedShare = await releaseShare(raw, share, digest);
    } finally {
      // A copy made here from a key object is erased; bytes the caller passed are theirs to keep.
      if (raw !== keys.shareKey) raw.fill(0);
    }
    return this.approve(requestId, { signature: signApproval(keys.signingKey, digest), releasedShare });
  }

  /** Rejects as an approver, after the same digest check as approveAsApprover. */
  async rejectAsApprover(requestId: string, keys: Pick<ApproverKeys, 'signingKey'>, reason?: string): Promise<KeyUseRequestView> {
    const view = await this.show(requestId);
    const signature = signRejection(keys.signingKey, checkedDigest(view));
    return this.reject(requestId, { signature, ...(reason === undefined ? {} : { reason }) });
  }
}
