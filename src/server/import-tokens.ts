// BYOK import tokens: an RSA key pair made for one import, its public half given to the caller and
// its private half kept barrier-sealed in the store at import-token/<id>, for 24 hours and one use.
// The token is spent (deleted, compare-and-set) before its key unwraps anything, so two imports
// racing on one token cannot both succeed.
import { generateKeyPair, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { auditedApprovalCall } from '../approvals/approval-audit.ts';
import { SealedJsonStore } from '../approvals/quorum/sealed-json-store.ts';
import type { Barrier } from '../barrier/index.ts';
import { resolveKeySpec, resolveWrappingAlgorithm } from '../core/algorithms/index.ts';
import { spkiFingerprint, type Caller, type OpenedImportToken } from '../core/engine/index.ts';
import { CofferError, type ErrorCode } from '../core/errors.ts';
import type { KeySpec } from '../core/key-record.ts';
import { systemClock, type AuditSink, type Clock } from '../core/ports.ts';
import type { Store } from '../store/index.ts';

const generate = promisify(generateKeyPair);
const PREFIX = 'import-token/';
const KIND = 'import-token';
/** 24 hours, as AWS KMS's GetParametersForImport. */
export const IMPORT_TOKEN_LIFETIME_MS = 24 * 3_600_000;
const TOKEN_KEY_SIZES: Readonly<Record<number, KeySpec>> = { 3072: 'RSA_3072', 4096: 'RSA_4096' };
const DENIALS: ReadonlySet<ErrorCode> = new Set(['ACCESS_DENIED', 'IMPORT_TOKEN_NOT_FOUND', 'IMPORT_TOKEN_EXPIRED']);
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface IssueImportTokenInput {
  readonly project: string;
  readonly spec: string;
  readonly wrappingAlgorithm: string;
  /** 3072 (default) or 4096. */
  readonly wrappingKeyBits?: number;
  /** For a replica from another cluster (key.import-foreign): the key keeps its id. */
  readonly preserveId?: boolean;
}

export interface IssuedImportToken {
  readonly importToken: string;
  readonly wrappingPublicKey: string;
  readonly wrappingPublicKeyFingerprint: string;
  readonly wrappingAlgorithm: string;
  readonly spec: string;
  readonly project: string;
  readonly preserveId: boolean;
  readonly expiresAt: string;
}

interface StoredToken {
  readonly id: string;
  readonly issuedTo: string;
  readonly project: string;
  readonly spec: KeySpec;
  readonly wrappingAlgorithm: string;
  readonly keySpec: KeySpec;
  readonly privateKey: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly preserveId: boolean;
  readonly expiresAt: string;
}

export class ImportTokenService {
  readonly #records: SealedJsonStore;
  readonly #store: Store;
  readonly #audit: AuditSink;
  readonly #clock: Clock;

  constructor(options: { store: Store; barrier: Barrier; audit: AuditSink; clock?: Clock }) {
    this.#store = options.store;
    this.#records = new SealedJsonStore(options.store, options.barrier, KIND);
    this.#audit = options.audit;
    this.#clock = options.clock ?? systemClock;
  }

  /** A fresh token for the caller, who must be a user or service of `project`. Prunes expired tokens. */
  issue(caller: Caller, input: IssueImportTokenInput): Promise<IssuedImportToken> {
    return this.#run(caller, 'key.import-token', async (scope) => {
      requireImporter(caller);
      if (!caller.projects.includes(input.project)) throw new CofferError('ACCESS_DENIED', 'the caller is not a member of this project');
      scope.project = input.project;
      const spec = resolveKeySpec(input.spec);
      const algorithm = resolveWrappingAlgorithm(input.wrappingAlgorithm);
      if (algorithm === 'AES_KWP') throw new CofferError('INCOMPATIBLE_ALGORITHM', 'an import token wraps with RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256');
      const bits = input.wrappingKeyBits ?? 3072;
      const keySpec = TOKEN_KEY_SIZES[bits];
      if (keySpec === undefined) throw new CofferError('INVALID_ARGUMENT', 'wrappingKeyBits must be 3072 or 4096');
      await this.pruneExpired();
      const { publicKey, privateKey } = await generate('rsa', { modulusLength: bits });
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      const id = randomUUID();
      const token: StoredToken = {
        id, issuedTo: caller.principal, project: input.project, spec, wrappingAlgorithm: algorithm, keySpec,
        privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        fingerprint: spkiFingerprint(spki), preserveId: input.preserveId === true,
        expiresAt: new Date(this.#clock.now().getTime() + IMPORT_TOKEN_LIFETIME_MS).toISOString(),
      };
      await this.#records.put(PREFIX + id, token, 0);
      scope.detail['importTokenId'] = id;
      scope.detail['wrappingKeyFingerprint'] = token.fingerprint;
      return {
        importToken: id, wrappingPublicKey: token.publicKey, wrappingPublicKeyFingerprint: token.fingerprint, wrappingAlgorithm: algorithm,
        spec, project: input.project, preserveId: token.preserveId, expiresAt: token.expiresAt,
      };
    });
  }

  /** The token's public facts, for checks before a quorum token is requested; the private key stays sealed. */
  async describe(caller: Caller, tokenId: string): Promise<Omit<OpenedImportToken, 'privateKey'>> {
    const { token } = await this.#load(caller, tokenId);
    const { privateKey: _sealed, ...facts } = this.#opened(token);
    return facts;
  }

  /**
   * Spends the caller's token (IMPORT_TOKEN_NOT_FOUND if unknown, used or another's; IMPORT_TOKEN_EXPIRED
   * after 24 h) and hands its opened key to `use`, erasing the private key afterwards.
   */
  async spend<T>(caller: Caller, tokenId: string, use: (token: OpenedImportToken) => Promise<T>): Promise<T> {
    const opened = await this.#run(caller, 'key.import-token-spend', async (scope) => {
      scope.detail['importTokenId'] = tokenId;
      requireImporter(caller);
      const { token, version } = await this.#load(caller, tokenId);
      // Spent before use: the delete is compare-and-set against the version read, so of two racing imports one fails.
      if (!await this.#deleteQuietly(PREFIX + token.id, version)) throw notFound();
      return this.#opened(token);
    });
    try {
      return await use(opened);
    } finally {
      opened.privateKey.fill(0);
    }
  }

  /** Deletes every expired token; returns how many. */
  async pruneExpired(): Promise<number> {
    const now = this.#clock.now().getTime();
    let pruned = 0;
    for (const entry of await this.#records.list(PREFIX)) {
      const token = entry.value as StoredToken;
      if (Date.parse(token.expiresAt) > now) continue;
      if (await this.#deleteQuietly(entry.path, entry.version)) pruned += 1;
    }
    return pruned;
  }

  async #deleteQuietly(path: string, version: number): Promise<boolean> {
    try {
      await this.#store.commit([this.#records.remove(path, version)]);
      return true;
    } catch (error) {
      if (error instanceof CofferError && error.code === 'STORE_CONFLICT') return false;
      throw error;
    }
  }

  async #load(caller: Caller, tokenId: string): Promise<{ token: StoredToken; version: number }> {
    if (!ID.test(tokenId)) throw notFound();
    const record = await this.#records.get(PREFIX + tokenId);
    const token = record?.value as StoredToken | undefined;
    // Someone else's token is as unknown as a missing one: ids are not confirmed to strangers.
    if (record === undefined || token === undefined || token.issuedTo !== caller.principal) throw notFound();
    if (Date.parse(token.expiresAt) <= this.#clock.now().getTime()) throw new CofferError('IMPORT_TOKEN_EXPIRED', 'the import token has expired');
    return { token, version: record.version };
  }

  #opened(token: StoredToken): OpenedImportToken {
    return {
      id: token.id, project: token.project, spec: token.spec, wrappingAlgorithm: token.wrappingAlgorithm, keySpec: token.keySpec,
      privateKey: Buffer.from(token.privateKey, 'base64'), fingerprint: token.fingerprint, preserveId: token.preserveId,
    };
  }

  #run<T>(caller: Caller, operation: string, body: Parameters<typeof auditedApprovalCall<T>>[4]): Promise<T> {
    return auditedApprovalCall(this.#audit, this.#clock, { principal: caller.principal, requestId: caller.requestId, operation }, DENIALS, body);
  }
}

/** Officers and auditors never hold key material: refused before any token is looked at. */
function requireImporter(caller: Caller): void {
  if (!caller.roles.includes('user') && !caller.roles.includes('service')) throw new CofferError('ACCESS_DENIED', 'only users and services import keys');
}

function notFound(): CofferError {
  return new CofferError('IMPORT_TOKEN_NOT_FOUND', 'no such import token: unknown, already used, or issued to someone else');
}
