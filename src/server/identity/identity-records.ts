// What the directory stores behind the barrier, and its JSON encoding. Decoding checks every field,
// so a record that decrypts but is malformed is STORE_CORRUPT, never trusted.
import { randomBytes } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';
import type { Role } from '../../core/engine/index.ts';
import type { CertificateBinding, Principal, Project } from './identity-types.ts';
import {
  checkCertificates, checkDescription, checkName, checkProjects, checkRole, PRINCIPAL_ID_PATTERN,
} from './identity-validation.ts';
import { isEncodedPasswordHash } from './password-hash.ts';

/** A principal as stored: the API's Principal with its password hash in place of `hasPassword`. */
export type PrincipalRecord = Omit<Principal, 'hasPassword'> & {
  /** scrypt encoded hash (password-hash.ts); absent for certificate-only principals. */
  readonly passwordHash?: string;
};

export type ProjectRecord = Project;

/** The ids of every ACTIVE officer, rewritten in the same commit as any change to that set. */
export interface OfficerRoster {
  readonly officers: readonly string[];
}

export interface NewPrincipalFields {
  readonly name: string;
  readonly role: Role;
  readonly projects: readonly string[];
  readonly defaultProject?: string | undefined;
  readonly certificates: readonly CertificateBinding[];
  readonly passwordHash?: string | undefined;
}

/** A fresh ACTIVE principal. Ids are `prn_` + 128 random bits: the '_' keeps them apart from names. */
export function newPrincipalRecord(fields: NewPrincipalFields, now: string): PrincipalRecord {
  return {
    id: `prn_${randomBytes(16).toString('hex')}`,
    name: fields.name,
    role: fields.role,
    projects: fields.projects,
    ...(fields.defaultProject === undefined ? {} : { defaultProject: fields.defaultProject }),
    status: 'ACTIVE',
    certificates: fields.certificates,
    ...(fields.passwordHash === undefined ? {} : { passwordHash: fields.passwordHash }),
    createdAt: now,
    updatedAt: now,
  };
}

function corrupt(what: string, cause?: unknown): CofferError {
  return new CofferError('STORE_CORRUPT', `a stored ${what} record is malformed`, cause === undefined ? undefined : { cause });
}

function parse(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw corrupt(what, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(what);
  return value as Record<string, unknown>;
}

/** Runs a validator from identity-validation.ts; its INVALID_ARGUMENT becomes STORE_CORRUPT. */
function stored<T>(what: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw corrupt(what, error);
  }
}

function isoTime(value: unknown, what: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw corrupt(what);
  return value;
}

const encode = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value), 'utf8');

export function encodePrincipal(record: PrincipalRecord): Uint8Array {
  return encode(record);
}

export function decodePrincipal(bytes: Uint8Array): PrincipalRecord {
  const what = 'principal';
  const v = parse(bytes, what);
  const id = v['id'];
  if (typeof id !== 'string' || !PRINCIPAL_ID_PATTERN.test(id)) throw corrupt(what);
  const status = v['status'];
  if (status !== 'ACTIVE' && status !== 'DISABLED') throw corrupt(what);
  const projects = stored(what, () => checkProjects(v['projects']));
  const defaultProject = v['defaultProject'];
  if (defaultProject !== undefined && (typeof defaultProject !== 'string' || !projects.includes(defaultProject))) throw corrupt(what);
  const passwordHash = v['passwordHash'];
  if (passwordHash !== undefined && !isEncodedPasswordHash(passwordHash)) throw corrupt(what);
  return {
    id,
    name: stored(what, () => checkName(v['name'], 'principal')),
    role: stored(what, () => checkRole(v['role'])),
    projects,
    ...(defaultProject === undefined ? {} : { defaultProject }),
    status,
    certificates: stored(what, () => checkCertificates(v['certificates'])),
    ...(passwordHash === undefined ? {} : { passwordHash }),
    createdAt: isoTime(v['createdAt'], what),
    updatedAt: isoTime(v['updatedAt'], what),
  };
}

export function encodeProject(record: ProjectRecord): Uint8Array {
  return encode(record);
}

export function decodeProject(bytes: Uint8Array): ProjectRecord {
  const what = 'project';
  const v = parse(bytes, what);
  const description = v['description'];
  return {
    name: stored(what, () => checkName(v['name'], 'project')),
    ...(description === undefined ? {} : { description: stored(what, () => checkDescription(description)) }),
    createdAt: isoTime(v['createdAt'], what),
  };
}

/** A name or fingerprint index entry: the id of the principal it points to. */
export function encodeIndex(id: string): Uint8Array {
  return encode({ id });
}

function indexedId(value: Record<string, unknown>): string {
  const id = value['id'];
  if (typeof id !== 'string' || !PRINCIPAL_ID_PATTERN.test(id)) throw corrupt('index');
  return id;
}

export function decodeIndex(bytes: Uint8Array): string {
  return indexedId(parse(bytes, 'index'));
}

/**
 * A name index entry: the principal holding the name, or the tombstone its deletion left. Key
 * policies name principals (owner, sharedWith), so a name is never given to anyone else.
 */
export type NameIndex =
  | { readonly retired: false; readonly id: string }
  | { readonly retired: true; readonly id: string; readonly deletedAt: string };

/** The tombstone: the deleted principal's id and when it went, kept for the record. */
export function encodeNameTombstone(id: string, deletedAt: string): Uint8Array {
  return encode({ id, deletedAt });
}

export function decodeNameIndex(bytes: Uint8Array): NameIndex {
  const value = parse(bytes, 'index');
  const id = indexedId(value);
  const deletedAt = value['deletedAt'];
  return deletedAt === undefined ? { retired: false, id } : { retired: true, id, deletedAt: isoTime(deletedAt, 'index') };
}

export function encodeRoster(roster: OfficerRoster): Uint8Array {
  return encode({ officers: [...roster.officers].sort() });
}

export function decodeRoster(bytes: Uint8Array): OfficerRoster {
  const officers = parse(bytes, 'officer roster')['officers'];
  if (!Array.isArray(officers) || !officers.every((id): id is string => typeof id === 'string' && PRINCIPAL_ID_PATTERN.test(id))) {
    throw corrupt('officer roster');
  }
  return { officers };
}

/** The API view: no password hash, and frozen, so a cached principal cannot be edited by a caller. */
export function toPrincipal(record: PrincipalRecord): Principal {
  return Object.freeze({
    id: record.id,
    name: record.name,
    role: record.role,
    projects: Object.freeze([...record.projects]),
    ...(record.defaultProject === undefined ? {} : { defaultProject: record.defaultProject }),
    status: record.status,
    certificates: Object.freeze(record.certificates.map((c) => Object.freeze({ ...c }))),
    hasPassword: record.passwordHash !== undefined,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  });
}

export function toProject(record: ProjectRecord): Project {
  return Object.freeze({ ...record });
}
