// The identity contract between the HTTP layer and the principal directory: who principals are, how
// they authenticate, and what the server asks of the directory. Implemented in principal-directory.ts.
import type { Caller, Role } from '../../core/engine/index.ts';

export type PrincipalStatus = 'ACTIVE' | 'DISABLED';

/** A client certificate bound to a principal: the SHA-256 of its DER, lowercase hex. */
export interface CertificateBinding {
  readonly fingerprint: string;
  /** The certificate subject as seen when it was bound (informational). */
  readonly subject?: string;
}

/** A principal as the API shows it: never a password hash or token. */
export interface Principal {
  readonly id: string;
  /** Unique, 1–64 of [a-z0-9._-], starting with a letter or digit. */
  readonly name: string;
  /** Exactly one role: officers never use keys, users never manage principals. */
  readonly role: Role;
  /** Projects the principal belongs to (officers and auditors: the projects they oversee). */
  readonly projects: readonly string[];
  /** Where a key name without a project resolves (VSSM key names); the first project if unset. */
  readonly defaultProject?: string;
  readonly status: PrincipalStatus;
  readonly certificates: readonly CertificateBinding[];
  readonly hasPassword: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Project {
  /** Unique, 1–64 of [a-z0-9._-], starting with a letter or digit. */
  readonly name: string;
  readonly description?: string;
  readonly createdAt: string;
}

export interface CreatePrincipalInput {
  readonly name: string;
  readonly role: Role;
  readonly projects?: readonly string[];
  readonly defaultProject?: string;
  readonly certificates?: readonly CertificateBinding[];
  /** Set a password at creation (scrypt-hashed; never stored or logged in clear). */
  readonly password?: string;
}

export interface UpdatePrincipalInput {
  readonly projects?: readonly string[];
  readonly defaultProject?: string;
  readonly status?: PrincipalStatus;
  readonly certificates?: readonly CertificateBinding[];
}

/** A bearer token from password login: opaque, short-lived, revoked when its principal is disabled. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: string;
  readonly principal: Principal;
}

/** Turns an authenticated principal into the engine's Caller for one request. */
export function callerOf(principal: Principal, requestId: string): Caller {
  return { principal: principal.name, roles: [principal.role], projects: principal.projects, requestId };
}
