// /v1/keys: create or import, list (with an async iterator over every page), describe, update,
// life cycle, sharing and public keys. Management routes take a key id; a `project/name` reference
// is looked up first, so callers may use either.
import { CofferError } from '../core/errors.ts';
import { decodeBase64, encodeBase64 } from './bytes.ts';
import type { ApprovalPolicyRequest, CreateKeyRequest, KeyListQuery, KeyMetadata, KeyRef, Page, PublicKey, UpdateKeyRequest } from './api-types.ts';
import type { Transport } from './transport.ts';
import { pageOf, paginate } from './pagination.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const segment = (value: string): string => encodeURIComponent(value);

/** A KeyRef as the id it names, or the project and name to look up. */
export function parseKeyRef(ref: KeyRef): { id: string } | { project: string; name: string } {
  if (typeof ref !== 'string') return ref;
  if (UUID.test(ref)) return { id: ref };
  const slash = ref.indexOf('/');
  if (slash > 0 && slash < ref.length - 1) return { project: ref.slice(0, slash), name: ref.slice(slash + 1) };
  throw new CofferError('INVALID_ARGUMENT', `a key is named by its id (uuid) or as project/name, not ${JSON.stringify(ref.slice(0, 140))}`);
}

export class KeyApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** The caller owns the new key. With `import`, the material is unwrapped instead of generated. */
  async create(request: CreateKeyRequest): Promise<KeyMetadata> {
    const { import: wrapped, ...rest } = request;
    const body = wrapped === undefined ? rest : { ...rest, import: { ...wrapped, wrappedMaterial: encodeBase64(wrapped.wrappedMaterial) } };
    return (await this.#http.send('POST', '/v1/keys', { body })) as KeyMetadata;
  }

  async list(query: KeyListQuery = {}): Promise<Page<KeyMetadata>> {
    return pageOf<KeyMetadata>(await this.#http.send('GET', '/v1/keys', { query: { ...query } }), 'keys');
  }

  /** Every key matching the query, page by page: `for await (const key of client.keys.listAll())`. */
  listAll(query: Omit<KeyListQuery, 'after'> = {}): AsyncGenerator<KeyMetadata, void, undefined> {
    return paginate((after) => this.list({ ...query, ...(after === undefined ? {} : { after }) }));
  }

  async get(ref: KeyRef): Promise<KeyMetadata> {
    const parsed = parseKeyRef(ref);
    const path = 'id' in parsed ? `/v1/keys/${parsed.id}` : `/v1/projects/${segment(parsed.project)}/keys/${segment(parsed.name)}`;
    return (await this.#http.send('GET', path)) as KeyMetadata;
  }

  async update(ref: KeyRef, request: UpdateKeyRequest): Promise<KeyMetadata> {
    return this.#onKey(ref, 'PATCH', '', request);
  }

  rotate(ref: KeyRef): Promise<KeyMetadata> { return this.#onKey(ref, 'POST', '/rotate'); }
  enable(ref: KeyRef): Promise<KeyMetadata> { return this.#onKey(ref, 'POST', '/enable'); }
  disable(ref: KeyRef): Promise<KeyMetadata> { return this.#onKey(ref, 'POST', '/disable'); }
  cancelDeletion(ref: KeyRef): Promise<KeyMetadata> { return this.#onKey(ref, 'POST', '/cancel-deletion'); }

  /** 7-30 days (default 30); the key is PENDING_DELETION until then and can be restored. */
  scheduleDeletion(ref: KeyRef, waitingDays?: number): Promise<KeyMetadata> {
    return this.#onKey(ref, 'POST', '/schedule-deletion', waitingDays === undefined ? {} : { waitingDays });
  }

  setMinDecryptVersion(ref: KeyRef, version: number): Promise<KeyMetadata> {
    return this.#onKey(ref, 'POST', '/min-decrypt-version', { version });
  }

  /**
   * Adds an approval policy to a key that has none (no approvals are needed to add a control).
   * Changing or removing one is a key-use request (`change-approvers`): here APPROVAL_REQUIRED.
   */
  setApproval(ref: KeyRef, approval: ApprovalPolicyRequest): Promise<KeyMetadata> {
    return this.#onKey(ref, 'PUT', '/approval', { approval });
  }

  /** Lets another principal use (never manage) the key. */
  share(ref: KeyRef, principal: string): Promise<KeyMetadata> {
    return this.#onKey(ref, 'POST', '/shares', { principal });
  }

  unshare(ref: KeyRef, principal: string): Promise<KeyMetadata> {
    return this.#onKey(ref, 'DELETE', `/shares/${segment(principal)}`);
  }

  /** The SPKI public key of an asymmetric key (its newest version unless `version` is given). */
  async publicKey(ref: KeyRef, version?: number): Promise<PublicKey> {
    const id = await this.#idOf(ref);
    const answer = (await this.#http.send('GET', `/v1/keys/${id}/public-key`, { query: { version } })) as Omit<PublicKey, 'der'> & { der: string };
    return { ...answer, der: decodeBase64(answer.der, 'der') };
  }

  async #idOf(ref: KeyRef): Promise<string> {
    const parsed = parseKeyRef(ref);
    return 'id' in parsed ? parsed.id : (await this.get(parsed)).id;
  }

  async #onKey(ref: KeyRef, method: string, suffix: string, body?: unknown): Promise<KeyMetadata> {
    const id = await this.#idOf(ref);
    return (await this.#http.send(method, `/v1/keys/${id}${suffix}`, body === undefined ? {} : { body })) as KeyMetadata;
  }
}
