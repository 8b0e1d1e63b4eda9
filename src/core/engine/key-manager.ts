// Key lifecycle: create, import, describe, list, rotate, enable/disable, deletion with a waiting
// period, minimum decrypt version, sharing, and metadata updates. Every call is audited.
import { randomUUID } from 'node:crypto';
import {
  checkSpecUsage, generateKeyMaterialAsync, importKeyMaterial, resolveKeySpec, resolveKeyUsage,
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
import { requireUsable, selectVersion } from './key-state.ts';

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
