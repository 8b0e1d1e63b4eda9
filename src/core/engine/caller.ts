// Who is asking: the authenticated principal, its roles and projects, and the request being served.
import type { ApprovedUse } from './approved-use.ts';

export const ROLES = ['officer', 'user', 'auditor', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  readonly principal: string;
  readonly roles: readonly Role[];
  /** Projects the principal belongs to; it sees only keys of these (and keys shared with it). */
  readonly projects: readonly string[];
  readonly requestId: string;
  /**
   * Set only by the key-use approval service, never from a request: the one use that M approvers
   * approved. Checked by identity (instanceof) and consumed by the engine.
   */
  readonly approval?: ApprovedUse;
}
