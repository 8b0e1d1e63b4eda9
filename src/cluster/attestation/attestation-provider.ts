// The seam between the join protocol and the ways a node proves what it is: one small interface,
// one folder per provider (join-token/, aws-ec2/).
import { CofferError } from '../../core/errors.ts';
import type { StoreWrite } from '../../store/index.ts';

/** What the evidence must be bound to: the joiner's claimed name and the key the domain key goes to. */
export interface AttestationContext {
  readonly nodeName: string;
  /** The joiner's ephemeral raw X25519 public key, base64url. */
  readonly joinPublicKey: string;
  /** The join request's id (a uuid). */
  readonly requestId: string;
  readonly domainId: string;
  readonly now: Date;
}

/** Who was admitted, for the audit entry. Never a token, signature or key. */
export interface AdmittedIdentity {
  readonly provider: string;
  /** e.g. the join token's id, or `aws:<accountId>:<instanceId>`. */
  readonly subject: string;
  readonly instanceId?: string;
}

export interface AttestationResult {
  readonly identity: AdmittedIdentity;
  /**
   * The provider's single-use marker (token marked used, instance recorded), conditional on the
   * versions read: committed in the same commit that hands over the domain key, so two admitters
   * racing on the same evidence admit once.
   */
  readonly claim: readonly StoreWrite[];
  /** After that commit succeeded (barrier version memory). */
  committed(): void;
}

export interface AttestationProvider {
  readonly kind: string;
  /** Resolves to the admitted identity, or throws AttestationRefused (any other error is a fault). */
  verify(evidence: unknown, context: AttestationContext): Promise<AttestationResult>;
}

/** Precise reasons, for the admitting node's audit only; the joiner sees JOIN_REFUSED and nothing more. */
export const REFUSAL_REASONS = [
  'EVIDENCE_MALFORMED', 'PROVIDER_MISMATCH', 'TOKEN_UNKNOWN', 'TOKEN_EXPIRED', 'TOKEN_USED', 'TOKEN_NODE_NAME', 'TOKEN_PROOF_INVALID',
  'SIGNATURE_INVALID', 'ACCOUNT_NOT_ALLOWED', 'REGION_NOT_ALLOWED', 'IMAGE_NOT_ALLOWED', 'ROLE_NOT_ALLOWED',
  'OUTSIDE_LAUNCH_WINDOW', 'INSTANCE_ALREADY_ADMITTED', 'REQUEST_MALFORMED',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** A refusal: code JOIN_REFUSED with a generic message; `reason` goes to the audit entry only. */
export class AttestationRefused extends CofferError {
  readonly reason: RefusalReason;
  /** What the evidence claimed to be, when it could be read (audit). */
  readonly subject: string | undefined;

  constructor(reason: RefusalReason, subject?: string) {
    super('JOIN_REFUSED', 'the join request was refused');
    this.name = 'AttestationRefused';
    this.reason = reason;
    this.subject = subject;
  }
}

export function refuse(reason: RefusalReason, subject?: string): AttestationRefused {
  return new AttestationRefused(reason, subject);
}
