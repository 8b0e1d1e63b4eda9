// AWS EC2 instance identity documents as join evidence: signature checked against configured AWS
// certificates, a policy on account, region, image (and, unauthenticated, role), one admission per
// instance id and a launch-time window, so a copied document cannot be replayed later.
import type { KeyObject } from 'node:crypto';
import { SealedJsonStore } from '../../../approvals/quorum/sealed-json-store.ts';
import type { Barrier } from '../../../barrier/index.ts';
import type { Store } from '../../../store/index.ts';
import { refuse, type AttestationContext, type AttestationProvider, type AttestationResult } from '../attestation-provider.ts';
import { MAX_DOCUMENT_BYTES, parseIdentityDocument, publicKeysFromPem, signatureValid } from './identity-document.ts';

export const AWS_EC2_PROVIDER = 'aws-ec2';
export const EC2_INSTANCE_PREFIX = 'cluster/ec2-instance/';
const RECORD_KIND = 'cluster.ec2-instance';
export const DEFAULT_LAUNCH_WINDOW_MINUTES = 10;
/** A launch time this far ahead of the admitter's clock is tolerated (clock skew). */
const FUTURE_SKEW_MS = 60_000;

export interface AwsEc2Policy {
  /** PEM text of the AWS "RSA" certificates for the regions allowed (AWS publishes one per region). */
  readonly certificatesPem: string;
  readonly accountIds: readonly string[];
  readonly regions: readonly string[];
  readonly imageIds?: readonly string[];
  /**
   * Role (instance profile) names. The document does not contain the role, so this checks a name
   * the joiner asserts beside it: it catches misconfiguration, not an attacker. See README.md.
   */
  readonly roles?: readonly string[];
  readonly launchWindowMinutes?: number;
}

/** Evidence: the document text and the base64 signature, as IMDS serves them, and the asserted role. */
export interface AwsEc2Evidence {
  readonly document: string;
  readonly signature: string;
  readonly role?: string;
}

function parseEvidence(evidence: unknown): AwsEc2Evidence {
  const e = evidence as Partial<AwsEc2Evidence> | null;
  if (typeof e !== 'object' || e === null || typeof e.document !== 'string' || typeof e.signature !== 'string') throw refuse('EVIDENCE_MALFORMED');
  if (Buffer.byteLength(e.document, 'utf8') > MAX_DOCUMENT_BYTES) throw refuse('EVIDENCE_MALFORMED');
  if (e.role !== undefined && (typeof e.role !== 'string' || e.role.length > 128)) throw refuse('EVIDENCE_MALFORMED');
  return { document: e.document, signature: e.signature, ...(e.role === undefined ? {} : { role: e.role }) };
}

export class AwsEc2Provider implements AttestationProvider {
  readonly kind = AWS_EC2_PROVIDER;
  readonly #keys: readonly KeyObject[];
  readonly #policy: AwsEc2Policy;
  readonly #windowMs: number;
  readonly #instances: SealedJsonStore;

  constructor(options: { readonly store: Store; readonly barrier: Barrier; readonly policy: AwsEc2Policy }) {
    this.#policy = options.policy;
    this.#keys = publicKeysFromPem(options.policy.certificatesPem);
    this.#windowMs = (options.policy.launchWindowMinutes ?? DEFAULT_LAUNCH_WINDOW_MINUTES) * 60_000;
    this.#instances = new SealedJsonStore(options.store, options.barrier, RECORD_KIND);
  }

  async verify(evidence: unknown, context: AttestationContext): Promise<AttestationResult> {
    const { document, signature, role } = parseEvidence(evidence);
    // Nothing in the document is looked at before its signature is.
    if (!signatureValid(document, signature, this.#keys)) throw refuse('SIGNATURE_INVALID');
    const identity = parseIdentityDocument(document);
    const subject = `aws:${identity.accountId}:${identity.instanceId}`;
    const policy = this.#policy;
    if (!policy.accountIds.includes(identity.accountId)) throw refuse('ACCOUNT_NOT_ALLOWED', subject);
    if (!policy.regions.includes(identity.region)) throw refuse('REGION_NOT_ALLOWED', subject);
    if (policy.imageIds !== undefined && !policy.imageIds.includes(identity.imageId)) throw refuse('IMAGE_NOT_ALLOWED', subject);
    if (policy.roles !== undefined && (role === undefined || !policy.roles.includes(role))) throw refuse('ROLE_NOT_ALLOWED', subject);
    const launched = Date.parse(identity.pendingTime);
    const now = context.now.getTime();
    if (launched > now + FUTURE_SKEW_MS || now - launched > this.#windowMs) throw refuse('OUTSIDE_LAUNCH_WINDOW', subject);
    const path = EC2_INSTANCE_PREFIX + identity.instanceId;
    if ((await this.#instances.get(path)) !== undefined) throw refuse('INSTANCE_ALREADY_ADMITTED', subject);
    const record = {
      instanceId: identity.instanceId, accountId: identity.accountId, region: identity.region, imageId: identity.imageId,
      pendingTime: identity.pendingTime, nodeName: context.nodeName, requestId: context.requestId, admittedAt: context.now.toISOString(),
    };
    return {
      identity: { provider: this.kind, subject, instanceId: identity.instanceId },
      // expectVersion 0: the instance is admitted once, ever, even by two admitters racing.
      claim: [this.#instances.write(path, record, 0)],
      committed: () => {
        this.#instances.noteCommitted(path, 0);
      },
    };
  }
}
