// The public view of a key record: everything but material. Routes serialise only this shape.
import { specInfo } from '../algorithms/index.ts';
import type { KeyApprovalPolicy, KeyRecord, KeySpec, KeyState, KeyUsage, KeyOrigin } from '../key-record.ts';

export interface KeyMetadata {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly owner: string;
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
  readonly state: KeyState;
  readonly exportable: boolean;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly sharedWith: readonly string[];
  /** M of N approvers for every guarded use; `sealed` when the material needs their shares. */
  readonly approval?: KeyApprovalPolicy;
  readonly currentVersion: number;
  readonly minDecryptVersion: number;
  readonly versions: readonly { readonly version: number; readonly createdAt: string; readonly origin: KeyOrigin }[];
  readonly algorithms: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deletionDate?: string;
  readonly destroyedAt?: string;
}

function algorithmsFor(record: KeyRecord): readonly string[] {
  const info = specInfo(record.spec);
  switch (record.usage) {
    case 'SIGN_VERIFY': return info.signingAlgorithms;
    case 'ENCRYPT_DECRYPT': return info.encryptionAlgorithms;
    case 'WRAP_UNWRAP': return info.wrappingAlgorithms;
    case 'GENERATE_VERIFY_MAC': return info.macAlgorithm === undefined ? [] : [info.macAlgorithm];
    case 'DERIVE': return [];
  }
}

export function toMetadata(record: KeyRecord): KeyMetadata {
  return {
    id: record.id,
    name: record.name,
    project: record.project,
    owner: record.owner,
    spec: record.spec,
    usage: record.usage,
    state: record.state,
    exportable: record.exportable,
    description: record.description,
    tags: { ...record.tags },
    sharedWith: [...record.policy.sharedWith],
    ...(record.policy.approval === undefined ? {} : { approval: { ...record.policy.approval, approvers: [...record.policy.approval.approvers] } }),
    currentVersion: record.currentVersion,
    minDecryptVersion: record.minDecryptVersion,
    versions: record.versions.map((v) => ({ version: v.version, createdAt: v.createdAt, origin: v.origin })),
    algorithms: algorithmsFor(record),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.deletionDate === undefined ? {} : { deletionDate: record.deletionDate }),
    ...(record.destroyedAt === undefined ? {} : { destroyedAt: record.destroyedAt }),
  };
}
