// Who is asking: the authenticated principal, its roles and projects, and the request being served.

export const ROLES = ['officer', 'user', 'auditor', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  readonly principal: string;
  readonly roles: readonly Role[];
  /** Projects the principal belongs to; it sees only keys of these (and keys shared with it). */
  readonly projects: readonly string[];
  readonly requestId: string;
}
