// The EC2 instance identity document (IMDS /latest/dynamic/instance-identity/document) and its
// base64 `signature` (/latest/dynamic/instance-identity/signature): RSA PKCS#1 v1.5 with SHA-256
// over the exact document bytes, verifiable with the region's AWS "RSA" public certificate (AWS EC2
// user guide, "Verify the instance identity document", the base64-encoded signature option).
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { CofferError } from '../../../core/errors.ts';
import { refuse } from '../attestation-provider.ts';

/** The fields this provider uses. The document holds no IAM role, security group, tag or nonce. */
export interface InstanceIdentity {
  readonly accountId: string;
  readonly region: string;
  readonly imageId: string;
  readonly instanceId: string;
  /** When the instance was launched (ISO 8601). */
  readonly pendingTime: string;
}

export const MAX_DOCUMENT_BYTES = 8 * 1024;
const MAX_SIGNATURE_CHARS = 4096;
const ACCOUNT = /^[0-9]{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$/;
const IMAGE = /^ami-[0-9a-f]{8,17}$/;
const INSTANCE = /^i-[0-9a-f]{8,17}$/;

/** The public keys of every certificate in a PEM bundle; none or a broken one → INVALID_ARGUMENT. */
export function publicKeysFromPem(pem: string): KeyObject[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CofferError('INVALID_ARGUMENT', 'the AWS certificates file holds no PEM certificate');
  return blocks.map((block) => {
    try {
      const key = new X509Certificate(block).publicKey;
      if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA certificate');
      return createPublicKey(key.export({ format: 'pem', type: 'spki' }));
    } catch (cause) {
      throw new CofferError('INVALID_ARGUMENT', 'an AWS certificate cannot be read as an RSA certificate', { cause });
    }
  });
}

/** IMDS returns the signature as base64 broken into lines; whitespace is dropped, anything else must be base64. */
function signatureBytes(signature: string): Buffer {
  const compact = signature.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) throw refuse('EVIDENCE_MALFORMED');
  return Buffer.from(compact, 'base64');
}

/** Checks the signature over the document's exact UTF-8 bytes against any configured key. */
export function signatureValid(document: string, signature: string, keys: readonly KeyObject[]): boolean {
  if (signature.length > MAX_SIGNATURE_CHARS) throw refuse('EVIDENCE_MALFORMED');
  const bytes = signatureBytes(signature);
  const data = Buffer.from(document, 'utf8');
  return keys.some((key) => {
    try {
      return verify('sha256', data, key, bytes);
    } catch {
      return false;
    }
  });
}

function field(document: Record<string, unknown>, name: string, pattern: RegExp): string {
  const value = document[name];
  if (typeof value !== 'string' || !pattern.test(value)) throw refuse('EVIDENCE_MALFORMED');
  return value;
}

/** Parses a (signature-checked) document; missing or malformed fields → EVIDENCE_MALFORMED. */
export function parseIdentityDocument(document: string): InstanceIdentity {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw refuse('EVIDENCE_MALFORMED');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refuse('EVIDENCE_MALFORMED');
  const d = parsed as Record<string, unknown>;
  const pendingTime = d['pendingTime'];
  if (typeof pendingTime !== 'string' || Number.isNaN(Date.parse(pendingTime))) throw refuse('EVIDENCE_MALFORMED');
  return {
    accountId: field(d, 'accountId', ACCOUNT),
    region: field(d, 'region', REGION),
    imageId: field(d, 'imageId', IMAGE),
    instanceId: field(d, 'instanceId', INSTANCE),
    pendingTime,
  };
}
