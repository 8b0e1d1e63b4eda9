// Checks identity inputs at the directory's edge: names, fingerprints, project lists, certificates.
import { CofferError } from '../../core/errors.ts';
import { ROLES, type Role } from '../../core/engine/index.ts';
import type { CertificateBinding } from './identity-types.ts';

/** Principal and project names: lowercase, so two names that look alike in a listing are one name. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** SHA-256 of a certificate's DER, lowercase hex. */
export const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;
/** Principal ids contain '_', which names never do, so an id can never be mistaken for a name. */
export const PRINCIPAL_ID_PATTERN = /^prn_[0-9a-f]{32}$/;

// Bounds on list sizes keep one principal record (and one audit entry) small.
export const MAX_PROJECTS_PER_PRINCIPAL = 256;
export const MAX_CERTIFICATES_PER_PRINCIPAL = 16;
export const MAX_SUBJECT_LENGTH = 1024;
export const MAX_DESCRIPTION_LENGTH = 1024;
const MAX_TOKEN_LENGTH = 256;

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

export function checkName(value: unknown, what: 'principal' | 'project'): string {
  if (!isName(value)) throw invalid(`a ${what} name must be 1-64 of [a-z0-9._-], starting with a letter or digit`);
  return value;
}

export function checkRole(value: unknown): Role {
  if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) {
    throw invalid(`role must be exactly one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

export function checkFingerprint(value: unknown): string {
  if (typeof value !== 'string' || !FINGERPRINT_PATTERN.test(value)) {
    throw invalid('a certificate fingerprint must be 64 lowercase hex digits (SHA-256 of the DER)');
  }
  return value;
}

function checkText(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !value.isWellFormed()) {
    throw invalid(`${what} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

export function checkDescription(value: unknown): string {
  return checkText(value, 'a project description', MAX_DESCRIPTION_LENGTH);
}

/** A request id or remote address handed down by the server: present and bounded. */
export function checkToken(value: unknown, what: string): string {
  return checkText(value, what, MAX_TOKEN_LENGTH);
}

export function isBoundedText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TOKEN_LENGTH && value.isWellFormed();
}

/** Distinct, well-formed project names, sorted so records compare and list stably. */
export function checkProjects(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid('projects must be a list of project names');
  if (value.length > MAX_PROJECTS_PER_PRINCIPAL) throw invalid(`a principal may belong to at most ${MAX_PROJECTS_PER_PRINCIPAL} projects`);
  const names = value.map((name: unknown) => checkName(name, 'project'));
  if (new Set(names).size !== names.length) throw invalid('projects must not repeat a name');
  return names.sort();
}

/** Distinct fingerprints, each with an optional subject. */
export function checkCertificates(value: unknown): CertificateBinding[] {
  if (!Array.isArray(value)) throw invalid('certificates must be a list');
  if (value.length > MAX_CERTIFICATES_PER_PRINCIPAL) {
    throw invalid(`a principal may have at most ${MAX_CERTIFICATES_PER_PRINCIPAL} certificates`);
  }
  const bindings = value.map((item: unknown): CertificateBinding => {
    if (typeof item !== 'object' || item === null) throw invalid('a certificate binding must be an object');
    const { fingerprint, subject } = item as { fingerprint?: unknown; subject?: unknown };
    return {
      fingerprint: checkFingerprint(fingerprint),
      ...(subject === undefined ? {} : { subject: checkText(subject, 'a certificate subject', MAX_SUBJECT_LENGTH) }),
    };
  });
  if (new Set(bindings.map((b) => b.fingerprint)).size !== bindings.length) throw invalid('certificates must not repeat a fingerprint');
  return bindings;
}
