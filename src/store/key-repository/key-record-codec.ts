// Serialises key records for the barrier: JSON with binary fields as base64. Parsing checks the
// shape, so a record that decrypts but is malformed is reported as STORE_CORRUPT, never trusted.
import { CofferError } from '../../core/errors.ts';
import { KEY_SPECS, KEY_STATES, KEY_USAGES, type ApproverShare, type KeyApprovalPolicy, type KeyRecord, type KeySeal, type KeyVersionRecord } from '../../core/key-record.ts';

interface VersionJson {
  version: number;
  createdAt: string;
  origin: 'GENERATED' | 'IMPORTED';
  material?: string;
  publicKey?: string;
  sealedMaterial?: string;
}

export function encodeKeyRecord(record: KeyRecord): Uint8Array {
  const versions: VersionJson[] = record.versions.map((v) => ({
    version: v.version,
    createdAt: v.createdAt,
    origin: v.origin,
    ...(v.material === undefined ? {} : { material: Buffer.from(v.material).toString('base64') }),
    ...(v.publicKey === undefined ? {} : { publicKey: Buffer.from(v.publicKey).toString('base64') }),
    ...(v.sealedMaterial === undefined ? {} : { sealedMaterial: Buffer.from(v.sealedMaterial).toString('base64') }),
  }));
  return Buffer.from(JSON.stringify({ ...record, versions }), 'utf8');
}

function corrupt(): CofferError {
  return new CofferError('STORE_CORRUPT', 'a stored key record is malformed');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  if (typeof value !== 'string') throw corrupt();
  return value;
}

function int(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw corrupt();
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw corrupt();
  return value as T;
}

function decodeVersion(value: unknown, index: number): KeyVersionRecord {
  if (!isObject(value)) throw corrupt();
  const version = int(value['version']);
  if (version !== index + 1) throw corrupt();
  return {
    version,
    createdAt: str(value['createdAt']),
    origin: oneOf(value['origin'], ['GENERATED', 'IMPORTED'] as const),
    ...(value['material'] === undefined ? {} : { material: Buffer.from(str(value['material']), 'base64') }),
    ...(value['publicKey'] === undefined ? {} : { publicKey: Buffer.from(str(value['publicKey']), 'base64') }),
    ...(value['sealedMaterial'] === undefined ? {} : { sealedMaterial: Buffer.from(str(value['sealedMaterial']), 'base64') }),
  };
}

function bool(value: unknown): boolean {
  if (typeof value !== 'boolean') throw corrupt();
  return value;
}

function decodeApproval(value: unknown): KeyApprovalPolicy | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Array.isArray(value['approvers'])) throw corrupt();
  return { threshold: int(value['threshold']), approvers: value['approvers'].map(str), rejectionEnds: bool(value['rejectionEnds']), sealed: bool(value['sealed']) };
}

function decodeShare(value: unknown): ApproverShare {
  if (!isObject(value)) throw corrupt();
  return { approver: str(value['approver']), recipientFingerprint: str(value['recipientFingerprint']), enc: str(value['enc']), ciphertext: str(value['ciphertext']), commitment: str(value['commitment']) };
}

function decodeSeal(value: unknown): KeySeal | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Array.isArray(value['shares'])) throw corrupt();
  return { threshold: int(value['threshold']), shares: value['shares'].map(decodeShare) };
}

export function decodeKeyRecord(bytes: Uint8Array): KeyRecord {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw corrupt();
  }
  if (!isObject(json) || !isObject(json['policy']) || !isObject(json['tags']) || !Array.isArray(json['versions'])) throw corrupt();
  const sharedWith = json['policy']['sharedWith'];
  if (!Array.isArray(sharedWith)) throw corrupt();
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(json['tags'])) tags[k] = str(v);
  const versions = json['versions'].map((v, i) => decodeVersion(v, i));
  const currentVersion = int(json['currentVersion']);
  const approval = decodeApproval(json['policy']['approval']);
  const seal = decodeSeal(json['seal']);
  if (currentVersion !== versions.length || currentVersion < 1) throw corrupt();
  return {
    id: str(json['id']),
    name: str(json['name']),
    project: str(json['project']),
    owner: str(json['owner']),
    spec: oneOf(json['spec'], KEY_SPECS),
    usage: oneOf(json['usage'], KEY_USAGES),
    state: oneOf(json['state'], KEY_STATES),
    exportable: json['exportable'] === true,
    description: str(json['description']),
    tags,
    policy: approval === undefined ? { sharedWith: sharedWith.map(str) } : { sharedWith: sharedWith.map(str), approval },
    versions,
    currentVersion,
    minDecryptVersion: int(json['minDecryptVersion']),
    createdAt: str(json['createdAt']),
    updatedAt: str(json['updatedAt']),
    ...(json['deletionDate'] === undefined ? {} : { deletionDate: str(json['deletionDate']) }),
    ...(json['destroyedAt'] === undefined ? {} : { destroyedAt: str(json['destroyedAt']) }),
    ...(seal === undefined ? {} : { seal }),
  };
}
