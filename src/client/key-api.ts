// /v1/keys: create or import, list (with an async iterator over every page), describe, update,
// life cycle, sharing and public keys. Management routes take a key id; a `project/name` reference
// is looked up first, so callers may use either.
import { CofferError } from '../core/errors.ts';
import { decodeBase64, encodeBase64 } from './bytes.ts';
import type { ApprovalPolicyRequest, CreateKeyRequest, KeyListQuery, KeyMetadata, KeyRef, Page, PublicKey, UpdateKeyRequest } from './api-types.ts';
import type { IssuedImportToken } from '../server/import-tokens.ts';
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

/** The id a KeyRef names: an id as is, a `project/name` looked up (KEY_NOT_FOUND when there is none). */
export async function keyIdOf(http: Transport, ref: KeyRef): Promise<string> {
  const parsed = parseKeyRef(ref);
  return 'id' in parsed ? parsed.id : ((await http.send('GET', keyPath(parsed))) as KeyMetadata).id;
}

/** A KeyRef as a body field takes it: the id or "project/name" (checked as parseKeyRef checks it). */
export function keyRefText(ref: KeyRef): string {
  const parsed = parseKeyRef(ref);
  return 'id' in parsed ? parsed.id : `${parsed.project}/${parsed.name}`;
}

function keyPath(parsed: { id: string } | { project: string; name: string }): string {
  return 'id' in parsed ? `/v1/keys/${parsed.id}` : `/v1/projects/${segment(parsed.project)}/keys/${segment(parsed.name)}`;
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
    return (await this.#http.send('GET', keyPath(parseKeyRef(ref)))) as KeyMetadata;
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

  /**
   * Exports an exportable key version wrapped under one of your WRAP_UNWRAP keys (`wrappingKeyId`) or to
   * an RSA public key (`wrappingPublicKey`, SPKI PEM). Under a quorum policy for key.export: QUORUM_REQUIRED.
   */
  async export(ref: KeyRef, request: ExportKeyRequest): Promise<ExportedKey> {
    const id = await this.#idOf(ref);
    const answer = (await this.#http.send('POST', `/v1/keys/${id}/export`, { body: request })) as Omit<ExportedKey, 'wrappedKey'> & { wrappedKey: string };
    return { ...answer, wrappedKey: decodeBase64(answer.wrappedKey, 'wrappedKey') };
  }

  /** An import token: an RSA public key to wrap material to, valid 24 hours for one import. */
  async importToken(request: ImportTokenRequest): Promise<ImportToken> {
    return (await this.#http.send('POST', '/v1/keys/import-tokens', { body: request })) as ImportToken;
  }

  /** Imports material wrapped to an import token's public key; the new key is non-exportable. */
  async importWrapped(request: TokenImportRequest): Promise<KeyMetadata> {
    return (await this.#http.send('POST', '/v1/keys/import', { body: { ...request, wrappedMaterial: encodeBase64(request.wrappedMaterial) } })) as KeyMetadata;
  }

  /** A key from its public half alone (SPKI PEM): it verifies (and RSA-encrypts), never signs or decrypts. */
  async importPublic(request: PublicKeyImportRequest): Promise<KeyMetadata> {
    return (await this.#http.send('POST', '/v1/keys/import-public', { body: request })) as KeyMetadata;
  }

  #idOf(ref: KeyRef): Promise<string> {
    return keyIdOf(this.#http, ref);
  }

  async #onKey(ref: KeyRef, method: string, suffix: string, body?: unknown): Promise<KeyMetadata> {
    const id = await this.#idOf(ref);
    return (await this.#http.send(method, `/v1/keys/${id}${suffix}`, body === undefined ? {} : { body })) as KeyMetadata;
  }
}

export interface ExportKeyRequest {
  readonly algorithm: 'AES_KWP' | 'RSA_AES_KEY_WRAP_SHA_256' | 'RSAES_OAEP_SHA_256';
  readonly wrappingKeyId?: string;
  readonly wrappingPublicKey?: string;
  readonly version?: number;
}

export interface ExportedKey {
  readonly wrappedKey: Uint8Array;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly algorithm: string;
  readonly wrappingKeyId?: string;
  readonly wrappingKeyVersion?: number;
  readonly wrappingKeyFingerprint?: string;
}

export interface ImportTokenRequest {
  readonly project: string;
  readonly spec: KeySpecName;
  readonly wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' | 'RSAES_OAEP_SHA_256';
  readonly wrappingKeyBits?: 3072 | 4096;
  /** For a replica from another cluster (quorum class key.import-foreign). */
  readonly preserveId?: boolean;
}

// The issued token is the server's contract (type-only: nothing of the server is loaded).
export type ImportToken = IssuedImportToken;

interface ImportedKeyFields {
  readonly project: string;
  readonly name: string;
  readonly spec: KeySpecName;
  readonly usage: KeyUsageName;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface TokenImportRequest extends ImportedKeyFields {
  readonly importToken: string;
  /** Raw bytes (symmetric) or PKCS#8 DER (asymmetric), wrapped to the token's public key. */
  readonly wrappedMaterial: Uint8Array;
}

export interface PublicKeyImportRequest extends ImportedKeyFields {
  /** SPKI PEM. */
  readonly publicKey: string;
}

type KeySpecName = CreateKeyRequest['spec'];
type KeyUsageName = CreateKeyRequest['usage'];
