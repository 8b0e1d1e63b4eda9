// Key lifecycle: create, import, describe, list, rotate, enable/disable, deletion with a waiting
// period, minimum decrypt version, sharing, and metadata updates. Every call is audited.
import { randomUUID } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import {
  checkSpecUsage, generateKeyMaterialAsync, importKeyMaterial, prepareKey, preparePublicKey, resolveKeySpec, resolveKeyUsage,
  resolveWrappingAlgorithm, unwrap,
} from '../algorithms/index.ts';
import { CofferError } from '../errors.ts';
import type { KeyApprovalPolicy, KeyOrigin, KeyRecord, KeySpec, KeyUsage, KeyVersionRecord } from '../key-record.ts';
import {
  keyUseDigest, openSealedMaterial, parseKeyApprovalPolicy, requireApprovedUse, requireSealableSpec,
  sealMaterial, type ApprovalHooks, type ApprovedUse,
} from './approved-use.ts';
import { authorizeCreate, authorizeList } from './authorization.ts';
import type { Caller } from './caller.ts';
import type { AuditScope, EngineContext, KeyRef } from './engine-context.ts';
import { optionalBoolean, optionalString, requireBytes, requireInteger, requireName, requireTags } from './input-validation.ts';
import { toMetadata, type KeyMetadata } from './key-metadata.ts';
import { isPublicOnly, requireUsable, selectVersion } from './key-state.ts';
import { type KeyReplica } from './key-transport.ts';

export interface CreateKeyInput {
  readonly project: string;
  readonly name: string;
  readonly spec: string;
  readonly usage: string;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Defaults to false; once false it can never become true. */
  readonly exportable?: boolean;
  /** M of N approvers for every guarded use, optionally sealed: {threshold, approvers, rejectionEnds?, sealed?}. */
  readonly approval?: unknown;
}

export interface ImportKeyInput extends CreateKeyInput {
  readonly wrappingKey: KeyRef;
  readonly wrappingAlgorithm: string;
  /** Raw bytes (symmetric) or PKCS#8 DER (asymmetric), wrapped under the wrapping key. */
  readonly wrappedMaterial: Uint8Array;
}

export interface TokenImportInput extends CreateKeyInput {
  /** Raw bytes (symmetric) or PKCS#8 DER (asymmetric), wrapped to the import token's public key. */
  readonly wrappedMaterial: Uint8Array;
}

/** An import token the server has spent (single use) and opened from its barrier-sealed record. */
export interface OpenedImportToken {
  readonly id: string;
  readonly project: string;
  /** The spec of the key the token was issued for. */
  readonly spec: KeySpec;
  readonly wrappingAlgorithm: string;
  /** The token's own RSA key: its spec and PKCS#8 private key. */
  readonly keySpec: KeySpec;
  readonly privateKey: Uint8Array;
  /** SHA-256 (hex) of the token's SPKI public key. */
  readonly fingerprint: string;
  readonly preserveId: boolean;
}

export interface UpdateKeyInput {
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Only `false` is accepted: exportability can be removed, never granted. */
  readonly exportable?: boolean;
}

/**
 * Resolves when `principal` may receive a grant (an existing, active principal); otherwise throws,
 * PRINCIPAL_NOT_FOUND. The engine keeps no principals, so its caller (the server) supplies this.
 */
export type GranteeCheck = (principal: string) => Promise<void>;

export const MIN_DELETION_DAYS = 7;
export const MAX_DELETION_DAYS = 30;
const DAY_MS = 86_400_000;
const MAX_WRAPPED_BYTES = 16_384;
const MAX_LIST = 1000;
/** A replica is one quorum parameter set (64 KiB): a few dozen versions at most. */
const MAX_REPLICA_VERSIONS = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class KeyManager {
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  #newRecord(caller: Caller, input: CreateKeyInput, spec: KeySpec, usage: KeyUsage, version: KeyVersionRecord): KeyRecord {
    const now = version.createdAt;
    return {
      id: randomUUID(),
      name: input.name,
      project: input.project,
      owner: caller.principal,
      spec,
      usage,
      state: 'ENABLED',
      exportable: optionalBoolean(input.exportable, 'exportable', false),
      description: optionalString(input.description, 'description', 1024),
      tags: requireTags(input.tags),
      policy: { sharedWith: [] },
      versions: [version],
      currentVersion: 1,
      minDecryptVersion: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  #validateCreate(caller: Caller, input: CreateKeyInput, scope: AuditScope): { spec: KeySpec; usage: KeyUsage } {
    scope.project = requireName(input.project, 'project');
    requireName(input.name, 'key name');
    authorizeCreate(caller, input.project);
    const spec = resolveKeySpec(input.spec);
    const usage = resolveKeyUsage(input.usage);
    checkSpecUsage(spec, usage);
    scope.detail = { spec, usage, name: input.name };
    return { spec, usage };
  }

  async #persistNew(record: KeyRecord, scope: AuditScope): Promise<KeyMetadata> {
    scope.keyId = record.id;
    scope.keyVersion = 1;
    const saved = await this.#ctx.repository.create(record);
    this.#ctx.remember(saved);
    return toMetadata(saved.record);
  }

  /** Generates a new key inside Coffer. The caller becomes its owner. */
  create(caller: Caller, input: CreateKeyInput, hooks?: ApprovalHooks): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.create', {}, async (scope) => {
      const { spec, usage } = this.#validateCreate(caller, input, scope);
      const approval = await this.#approvalOf(input, spec, hooks, scope);
      // Off the event loop: an RSA-4096 key takes long enough to stall every other request.
      const generated = await generateKeyMaterialAsync(spec);
      const version = this.#version(1, 'GENERATED', generated);
      const record = await this.#withApproval(this.#newRecord(caller, input, spec, usage, version), approval, hooks);
      if (record.seal !== undefined) generated.material.fill(0);
      return this.#persistNew(record, scope);
    });
  }

  /** The validated approval policy of a new key, its approvers confirmed by the key-use service. */
  async #approvalOf(input: CreateKeyInput, spec: KeySpec, hooks: ApprovalHooks | undefined, scope: AuditScope): Promise<KeyApprovalPolicy | undefined> {
    if (input.approval === undefined) return undefined;
    const approval = parseKeyApprovalPolicy(input.approval);
    if (approval.sealed) requireSealableSpec(spec);
    if (hooks === undefined) throw new CofferError('INVALID_ARGUMENT', 'approval policies need the key-use approval service');
    await hooks.requireApprovers(approval);
    scope.detail = { ...scope.detail, approvalThreshold: approval.threshold, approvers: approval.approvers.length, sealed: approval.sealed };
    return approval;
  }

  /**
   * The record under `approval` (undefined: none), given every version's material in the clear (or
   * undefined where destroyed). A sealed policy gets a fresh key-approval key from the service, seals
   * every version under it, and erases it; the plaintext material is then kept nowhere.
   */
  async #withApproval(record: KeyRecord, approval: KeyApprovalPolicy | undefined, hooks: ApprovalHooks | undefined, materials?: readonly (Uint8Array | undefined)[]): Promise<KeyRecord> {
    const plain = materials ?? record.versions.map((v) => v.material);
    const { seal: _oldSeal, ...base } = record;
    const policy = approval === undefined ? { sharedWith: record.policy.sharedWith } : { sharedWith: record.policy.sharedWith, approval };
    const bare = (v: KeyVersionRecord): KeyVersionRecord => {
      const { material: _m, sealedMaterial: _s, ...rest } = v;
      return rest;
    };
    if (approval?.sealed !== true) {
      const versions = record.versions.map((v, i) => {
        const material = plain[i];
        // A copy: the caller erases what it opened from a seal.
        return material === undefined ? bare(v) : { ...bare(v), material: v.material ?? Buffer.from(material) };
      });
      return { ...base, policy, versions };
    }
    if (hooks === undefined) throw new CofferError('INVALID_ARGUMENT', 'sealed keys need the key-use approval service');
    const { seal, kak } = await hooks.seal(record.id, approval);
    try {
      const versions = record.versions.map((v, i) => {
        const material = plain[i];
        return material === undefined ? bare(v) : { ...bare(v), sealedMaterial: sealMaterial(kak, record.id, v.version, material) };
      });
      return { ...base, policy, versions, seal };
    } finally {
      kak.fill(0);
    }
  }

  /** Every version's material in the clear (undefined where destroyed); a sealed key's needs the grant. */
  #materials(record: KeyRecord, grant: ApprovedUse | undefined): (Uint8Array | undefined)[] {
    return record.versions.map((v) => {
      if (v.material !== undefined) return v.material;
      if (v.sealedMaterial === undefined) return undefined;
      if (grant === undefined) throw new CofferError('APPROVAL_REQUIRED', 'the key is sealed: a change needs its approvers’ released shares');
      return openSealedMaterial(grant.keyApprovalKey(), record.id, v.version, v.sealedMaterial);
    });
  }

  /**
   * Replaces a key's approval policy (null: none). A key without one gets it from its owner alone
   * (adding a control needs no one's consent); a key with one changes only through a request its
   * current approvers approved, whose grant this consumes. A sealed key is re-sealed under a fresh
   * key-approval key for the new approvers, or unsealed when the new policy is not sealed.
   */
  changeApprovers(caller: Caller, ref: KeyRef, approvalInput: unknown, hooks?: ApprovalHooks): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.change-approvers', {}, async (scope) => {
      const approval = approvalInput === null ? undefined : parseKeyApprovalPolicy(approvalInput);
      const { record: current } = await this.#ctx.load(caller, ref, 'manage', scope);
      if (current.state === 'DESTROYED') throw transition(current.state, current.state);
      if (approval?.sealed === true) requireSealableSpec(current.spec);
      scope.inputDigest = keyUseDigest.changeApprovers(approval ?? null);
      const guarded = current.policy.approval !== undefined || current.seal !== undefined;
      const grant = guarded ? requireApprovedUse(caller, current, 'change-approvers', current.currentVersion, scope.inputDigest) : undefined;
      if (approval !== undefined) {
        if (hooks === undefined) throw new CofferError('INVALID_ARGUMENT', 'approval policies need the key-use approval service');
        await hooks.requireApprovers(approval);
      }
      scope.detail = approval === undefined ? { approval: 'none' } : { approvalThreshold: approval.threshold, approvers: approval.approvers.length, sealed: approval.sealed };
      const materials = this.#materials(current, grant);
      try {
        const next = await this.#withApproval(current, approval, hooks, materials);
        const saved = await this.#ctx.update(caller, ref, scope, (record) => {
          // Approved against this exact record: any change meanwhile (a rotation, say) voids the approval.
          if (record.updatedAt !== current.updatedAt || record.currentVersion !== current.currentVersion) {
            throw new CofferError('APPROVAL_MISMATCH', 'the key changed since the change was approved');
          }
          return { ...next, state: record.state, updatedAt: this.#ctx.nowIso() };
        });
        return toMetadata(saved);
      } finally {
        materials.forEach((m, i) => {
          if (m !== undefined && m !== current.versions[i]?.material) m.fill(0);
        });
      }
    });
  }

  /** Imports key material that arrives wrapped under one of the caller's wrapping keys. */
  import(caller: Caller, input: ImportKeyInput, hooks?: ApprovalHooks): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.import', {}, async (scope) => {
      const { spec, usage } = this.#validateCreate(caller, input, scope);
      const algorithm = resolveWrappingAlgorithm(input.wrappingAlgorithm);
      const wrapped = requireBytes(input.wrappedMaterial, 'wrappedMaterial', MAX_WRAPPED_BYTES, 1);
      const wrapScope: AuditScope = {};
      const wrapping = await this.#ctx.load(caller, input.wrappingKey, 'use', wrapScope);
      requireUsable(wrapping.record);
      if (wrapping.record.usage !== 'WRAP_UNWRAP') throw new CofferError('KEY_USAGE_NOT_ALLOWED', 'the wrapping key is not a WRAP_UNWRAP key');
      const wrapVersion = selectVersion(wrapping.record, wrapping.record.currentVersion);
      const grant = requireApprovedUse(caller, wrapping.record, 'unwrap', wrapVersion.version, keyUseDigest.unwrap(wrapped));
      const approval = await this.#approvalOf(input, spec, hooks, scope);
      const material = unwrap(this.#ctx.prepared(wrapping.record, wrapVersion, grant), algorithm, wrapped);
      try {
        const imported = importKeyMaterial(spec, material);
        scope.detail = { ...scope.detail, wrappingKeyId: wrapping.record.id, wrappingKeyVersion: wrapVersion.version };
        const version = this.#version(1, 'IMPORTED', imported);
        const record = await this.#withApproval(this.#newRecord(caller, input, spec, usage, version), approval, hooks);
        return await this.#persistNew(record, scope);
      } finally {
        material.fill(0);
      }
    });
  }

  /**
   * BYOK: imports material wrapped to an import token's public key. The caller's server has already
   * spent the token (single use) and opened its private key; the key is created non-exportable.
   */
  importWithToken(caller: Caller, input: TokenImportInput, token: OpenedImportToken): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.import', {}, async (scope) => {
      const { spec, usage } = this.#validateCreate(caller, input, scope);
      scope.detail = { ...scope.detail, importTokenId: token.id, wrappingAlgorithm: token.wrappingAlgorithm };
      requireTokenFits(token, spec, input.project);
      const wrapped = requireBytes(input.wrappedMaterial, 'wrappedMaterial', MAX_WRAPPED_BYTES, 1);
      const material = unwrap(prepareKey(token.keySpec, token.privateKey), resolveWrappingAlgorithm(token.wrappingAlgorithm), wrapped);
      try {
        const version = this.#version(1, 'IMPORTED', importKeyMaterial(spec, material));
        return await this.#persistNew(this.#newRecord(caller, { ...input, exportable: false }, spec, usage, version), scope);
      } finally {
        material.fill(0);
      }
    });
  }

  /** A verification (or RSA encryption) key from its public half alone: no material, so sign and decrypt are KEY_PUBLIC_ONLY. */
  importPublic(caller: Caller, input: CreateKeyInput & { readonly publicKey: string | Uint8Array }): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.import-public', {}, async (scope) => {
      const { spec, usage } = this.#validateCreate(caller, input, scope);
      if (usage !== 'SIGN_VERIFY' && usage !== 'ENCRYPT_DECRYPT') throw new CofferError('KEY_USAGE_NOT_ALLOWED', 'a public key alone can only verify or encrypt');
      if (spec === 'AES_256' || spec.startsWith('HMAC_')) throw new CofferError('INVALID_ARGUMENT', 'a symmetric key has no public half');
      const spki = publicKeyDer(input.publicKey);
      // Parsing against the spec refuses a key of another type or size (INVALID_KEY_MATERIAL).
      preparePublicKey(spec, spki);
      const version: KeyVersionRecord = { version: 1, createdAt: this.#ctx.nowIso(), origin: 'IMPORTED', publicKey: spki };
      return this.#persistNew(this.#newRecord(caller, { ...input, exportable: false }, spec, usage, version), scope);
    });
  }

  /**
   * Cluster to cluster: the replica another cluster exported (by its officers' quorum) to a token with
   * preserveId, stored under its original id with every version, non-exportable, owned by the caller.
   * Only the quorum class key.import-foreign runs this, after this cluster's officers approved.
   */
  importReplica(caller: Caller, replica: KeyReplica, token: OpenedImportToken): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.import-foreign', {}, async (scope) => {
      const { key } = replica;
      const { spec, usage } = this.#validateCreate(caller, { project: key.project, name: key.name, spec: key.spec, usage: key.usage }, scope);
      scope.detail = { ...scope.detail, importTokenId: token.id, sourceKeyId: key.id, versions: replica.versions.length };
      if (!token.preserveId) throw new CofferError('INVALID_ARGUMENT', 'a replica needs an import token issued with preserveId');
      requireTokenFits(token, spec, key.project);
      if (replica.wrappingKeyFingerprint !== token.fingerprint) throw new CofferError('APPROVAL_MISMATCH', 'the replica is wrapped to another import token');
      const count = replica.versions.length;
      if (count === 0 || count > MAX_REPLICA_VERSIONS || key.currentVersion !== count) throw new CofferError('INVALID_ARGUMENT', 'a replica carries every version, 1 to its current one');
      const min = requireInteger(key.minDecryptVersion, 'minDecryptVersion', 1, count);
      const privateKey = prepareKey(token.keySpec, token.privateKey);
      const versions = replica.versions.map((v, i): KeyVersionRecord => {
        if (v.version !== i + 1) throw new CofferError('INVALID_ARGUMENT', 'replica versions must run 1, 2, 3, …');
        const material = unwrap(privateKey, 'RSA_AES_KEY_WRAP_SHA_256', requireBytes(Buffer.from(v.wrappedMaterial, 'base64'), 'wrappedMaterial', MAX_WRAPPED_BYTES, 1));
        try {
          const imported = importKeyMaterial(spec, material);
          return { version: v.version, createdAt: requireTimestamp(v.createdAt), origin: 'IMPORTED', material: imported.material, ...(imported.publicKey === undefined ? {} : { publicKey: imported.publicKey }) };
        } finally {
          material.fill(0);
        }
      });
      const base = this.#newRecord(caller, { project: key.project, name: key.name, spec, usage, description: key.description, tags: key.tags, exportable: false }, spec, usage, versions[0] as KeyVersionRecord);
      const record: KeyRecord = { ...base, id: requireUuid(key.id), versions, currentVersion: count, minDecryptVersion: min };
      scope.keyId = record.id;
      const saved = await this.#ctx.repository.create(record);
      this.#ctx.remember(saved);
      scope.keyVersion = count;
      return toMetadata(saved.record);
    });
  }

  #version(version: number, origin: KeyOrigin, material: { material: Buffer; publicKey?: Buffer }): KeyVersionRecord {
    return {
      version,
      createdAt: this.#ctx.nowIso(),
      origin,
      material: material.material,
      ...(material.publicKey === undefined ? {} : { publicKey: material.publicKey }),
    };
  }

  describe(caller: Caller, ref: KeyRef): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.describe', {}, async (scope) => toMetadata((await this.#ctx.load(caller, ref, 'read', scope)).record));
  }

  list(caller: Caller, project: string, options: { after?: string; limit?: number } = {}): Promise<KeyMetadata[]> {
    return this.#ctx.audited(caller, 'key.list', {}, async (scope) => {
      scope.project = requireName(project, 'project');
      authorizeList(caller, project);
      const limit = options.limit === undefined ? 100 : requireInteger(options.limit, 'limit', 1, MAX_LIST);
      const after = options.after === undefined ? undefined : requireName(options.after, 'after');
      const keys = await this.#ctx.repository.list(project, { limit, ...(after === undefined ? {} : { after }) });
      return keys.map((k) => toMetadata(k.record));
    });
  }

  /** Adds a version; new operations use it, older ones still decrypt and verify. */
  rotate(caller: Caller, ref: KeyRef): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.rotate', {}, async (scope) => {
      // The spec never changes, so the new material can be generated (off the event loop) before
      // the compare-and-set update, which may re-read the record on a conflict.
      const { record: current } = await this.#ctx.load(caller, ref, 'manage', scope);
      requireUsable(current);
      if (isPublicOnly(current)) throw new CofferError('KEY_PUBLIC_ONLY', 'a key imported from its public half cannot make new versions');
      // A sealed key's new version must be sealed under its key-approval key: only its approvers can rotate it.
      const grant = current.seal === undefined ? undefined
        : requireApprovedUse(caller, current, 'rotate', current.currentVersion, keyUseDigest.rotate(current.id, current.currentVersion));
      const generated = await generateKeyMaterialAsync(current.spec);
      const saved = await this.#ctx.update(caller, ref, scope, (record) => {
        requireUsable(record);
        const next = record.currentVersion + 1;
        scope.keyVersion = next;
        const version = this.#version(next, 'GENERATED', generated);
        if (record.seal === undefined) return { ...record, versions: [...record.versions, version], currentVersion: next, updatedAt: this.#ctx.nowIso() };
        if (grant === undefined || record.currentVersion !== current.currentVersion) throw new CofferError('APPROVAL_MISMATCH', 'the key changed since the rotation was approved');
        const { material: _plain, ...sealedVersion } = version;
        const sealed = { ...sealedVersion, sealedMaterial: sealMaterial(grant.keyApprovalKey(), record.id, next, generated.material) };
        return { ...record, versions: [...record.versions, sealed], currentVersion: next, updatedAt: this.#ctx.nowIso() };
      });
      if (saved.seal !== undefined) generated.material.fill(0);
      return toMetadata(saved);
    });
  }

  enable(caller: Caller, ref: KeyRef): Promise<KeyMetadata> {
    return this.#mutate(caller, 'key.enable', ref, (record) => {
      if (record.state !== 'DISABLED' && record.state !== 'ENABLED') throw transition(record.state, 'ENABLED');
      return { ...record, state: 'ENABLED' };
    });
  }

  disable(caller: Caller, ref: KeyRef): Promise<KeyMetadata> {
    return this.#mutate(caller, 'key.disable', ref, (record) => {
      if (record.state !== 'ENABLED' && record.state !== 'DISABLED') throw transition(record.state, 'DISABLED');
      return { ...record, state: 'DISABLED' };
    });
  }

  /** Schedules destruction after a waiting period of 7–30 days (default 30); cancellable until then. */
  scheduleDeletion(caller: Caller, ref: KeyRef, waitingDays: number = MAX_DELETION_DAYS): Promise<KeyMetadata> {
    return this.#mutate(caller, 'key.schedule-deletion', ref, (record, scope) => {
      const days = requireInteger(waitingDays, 'waitingDays', MIN_DELETION_DAYS, MAX_DELETION_DAYS);
      if (record.state === 'PENDING_DELETION' || record.state === 'DESTROYED') throw transition(record.state, 'PENDING_DELETION');
      const deletionDate = new Date(this.#ctx.clock.now().getTime() + days * DAY_MS).toISOString();
      scope.detail = { waitingDays: days };
      return { ...record, state: 'PENDING_DELETION', deletionDate };
    });
  }

  /** Cancels a scheduled deletion; the key comes back DISABLED, to be enabled deliberately. */
  cancelDeletion(caller: Caller, ref: KeyRef): Promise<KeyMetadata> {
    return this.#mutate(caller, 'key.cancel-deletion', ref, (record) => {
      if (record.state !== 'PENDING_DELETION') throw transition(record.state, 'DISABLED');
      const { deletionDate: _dropped, ...rest } = record;
      return { ...rest, state: 'DISABLED' };
    });
  }

  /** Decrypt and verify refuse versions below `version`; it can never pass the current version. */
  setMinDecryptVersion(caller: Caller, ref: KeyRef, version: number): Promise<KeyMetadata> {
    return this.#mutate(caller, 'key.set-min-decrypt-version', ref, (record, scope) => {
      requireUsable(record);
      const min = requireInteger(version, 'minDecryptVersion', 1, record.currentVersion);
      scope.detail = { minDecryptVersion: min };
      return { ...record, minDecryptVersion: min };
    });
  }

  /**
   * Lets another principal (possibly of another project) use the key; never manage it. A grant is
   * held by name, so `requireGrantee` must confirm the name is a live principal now: a grant to a
   * free name would pass to whoever is given it later. It is asked only once the caller may manage
   * the key, so no one else learns from it whether a name exists, and its refusal is this call's.
   */
  share(caller: Caller, ref: KeyRef, principal: string, requireGrantee: GranteeCheck): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, 'key.share', {}, async (scope) => {
      const grant = (record: KeyRecord): KeyRecord => {
        if (record.state === 'DESTROYED') throw transition(record.state, record.state);
        if (principal === record.owner || record.policy.sharedWith.includes(principal)) return record;
        return { ...record, policy: { ...record.policy, sharedWith: [...record.policy.sharedWith, principal] }, updatedAt: this.#ctx.nowIso() };
      };
      const { record } = await this.#ctx.load(caller, ref, 'manage', scope);
      requireName(principal, 'principal');
      scope.detail = { principal };
      if (record.state === 'DESTROYED') throw transition(record.state, record.state);
      // The owner is the caller, who exists; anyone else is asked about, even a name granted already.
      if (principal !== record.owner) await requireGrantee(principal);
      return toMetadata(await this.#ctx.update(caller, ref, scope, grant));
    });
  }

  unshare(caller: Caller, ref: KeyRef, principal: string): Promise<KeyMetadata> {
    return this.#mutate(caller, 'key.unshare', ref, (record, scope) => {
      requireName(principal, 'principal');
      scope.detail = { principal };
      return { ...record, policy: { ...record.policy, sharedWith: record.policy.sharedWith.filter((p) => p !== principal) } };
    });
  }

  update(caller: Caller, ref: KeyRef, input: UpdateKeyInput): Promise<KeyMetadata> {
    return this.#mutate(caller, 'key.update', ref, (record) => {
      if (input.exportable === true && !record.exportable) throw new CofferError('INVALID_STATE_TRANSITION', 'exportability can be removed, never granted');
      if (input.exportable !== undefined && typeof input.exportable !== 'boolean') throw new CofferError('INVALID_ARGUMENT', 'exportable must be true or false');
      return {
        ...record,
        ...(input.description === undefined ? {} : { description: optionalString(input.description, 'description', 1024) }),
        ...(input.tags === undefined ? {} : { tags: requireTags(input.tags) }),
        ...(input.exportable === false ? { exportable: false } : {}),
      };
    });
  }

  /**
   * Destroys every key whose deletion date has passed: state DESTROYED, material erased from
   * the record. Run periodically by the node; returns the ids destroyed.
   */
  async destroyDue(caller: Caller): Promise<string[]> {
    const now = this.#ctx.clock.now().getTime();
    const destroyed: string[] = [];
    for (let after: string | undefined; ;) {
      const page = await this.#ctx.repository.scan({ limit: 500, ...(after === undefined ? {} : { after }) });
      if (page.length === 0) break;
      after = page.at(-1)?.record.id;
      for (const { record } of page) {
        if (record.state !== 'PENDING_DELETION' || record.deletionDate === undefined || Date.parse(record.deletionDate) > now) continue;
        await this.#ctx.audited(caller, 'key.destroy', { keyId: record.id, project: record.project }, async () => {
          const current = await this.#ctx.repository.get(record.id);
          if (current === undefined || current.record.state !== 'PENDING_DELETION') return;
          const at = this.#ctx.nowIso();
          const versions = current.record.versions.map(({ material: _erased, sealedMaterial: _sealed, ...v }) => v);
          await this.#ctx.repository.update({ ...current.record, state: 'DESTROYED', versions, destroyedAt: at, updatedAt: at }, current.revision);
          this.#ctx.invalidate(record.id);
          destroyed.push(record.id);
        });
      }
    }
    return destroyed;
  }

  #mutate(caller: Caller, operation: string, ref: KeyRef, change: (record: KeyRecord, scope: AuditScope) => KeyRecord): Promise<KeyMetadata> {
    return this.#ctx.audited(caller, operation, {}, async (scope) => {
      const saved = await this.#ctx.update(caller, ref, scope, (record) => {
        const next = change(record, scope);
        return next === record ? record : { ...next, updatedAt: this.#ctx.nowIso() };
      });
      return toMetadata(saved);
    });
  }
}

function transition(from: string, to: string): CofferError {
  return new CofferError('INVALID_STATE_TRANSITION', `a ${from} key cannot become ${to}`);
}

/** The token was issued for this project and spec: material for another spec is refused before unwrapping. */
function requireTokenFits(token: OpenedImportToken, spec: KeySpec, project: string): void {
  if (token.spec !== spec || token.project !== project) throw new CofferError('INVALID_ARGUMENT', 'the import token was issued for another project or key spec');
}

function requireUuid(value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw new CofferError('INVALID_ARGUMENT', 'a replica key id must be a uuid');
  return value;
}

function requireTimestamp(value: unknown): string {
  if (typeof value !== 'string' || value.length > 40 || Number.isNaN(Date.parse(value))) throw new CofferError('INVALID_ARGUMENT', 'a replica version time must be an ISO timestamp');
  return new Date(value).toISOString();
}

/** SPKI DER of a public key given as PEM text or DER bytes (INVALID_KEY_MATERIAL when it is neither). */
function publicKeyDer(input: string | Uint8Array): Buffer {
  if (input.length === 0 || input.length > 16_384) throw new CofferError('INVALID_KEY_MATERIAL', 'the public key must be an SPKI PEM or DER of at most 16 KiB');
  try {
    const key = typeof input === 'string' ? createPublicKey({ key: input, format: 'pem' }) : createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
    return key.export({ type: 'spki', format: 'der' });
  } catch (error) {
    throw new CofferError('INVALID_KEY_MATERIAL', 'the public key is not an SPKI public key', { cause: error });
  }
}
