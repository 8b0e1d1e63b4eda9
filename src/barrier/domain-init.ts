// Creating a security domain: the domain key, its Shamir split, and the public descriptor.
import { randomBytes, randomUUID } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/ports.ts';
import { DESCRIPTOR_FORMAT_VERSION, DOMAIN_KEY_BYTES, MAX_CUSTODIAN_NAME_LENGTH, MAX_CUSTODIANS, parseDomainDescriptor, type CustodianEntry, type DomainDescriptor } from './domain-descriptor.ts';
import { deriveAuditSigningKey, keyCheck, shareDigest, spkiBase64url } from './domain-key-derivations.ts';
import { hpkeSeal, parseX25519PublicKey, shareInfo } from './hpke-share-box.ts';
import { checkFieldString } from './length-prefixed.ts';
import { splitDomainKey } from './shamir-shares.ts';

export interface CustodianSpec {
  readonly name: string;
  /** Raw X25519 public key, 32 bytes base64url (see createCustodianKeyPair). */
  readonly publicKey: string;
}

export interface InitDomainRequest {
  readonly custodians: readonly CustodianSpec[];
  /** How many custodians must cooperate to unseal: 1 ≤ threshold ≤ custodians (1-of-1 is for development). */
  readonly threshold: number;
}

function checkRequest(request: InitDomainRequest): Buffer[] {
  const { custodians, threshold } = request;
  // Checked at run time too: callers outside TypeScript may pass anything.
  const list: unknown = custodians;
  if (!Array.isArray(list) || custodians.length < 1 || custodians.length > MAX_CUSTODIANS) {
    throw new CofferError('INVALID_ARGUMENT', `custodians must list 1 to ${MAX_CUSTODIANS} custodians`);
  }
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > custodians.length) {
    throw new CofferError('INVALID_ARGUMENT', 'threshold must be an integer from 1 to the number of custodians');
  }
  const keys = custodians.map((custodian, index) => {
    const entry: unknown = custodian;
    if (typeof entry !== 'object' || entry === null) throw new CofferError('INVALID_ARGUMENT', `custodians[${index}] must be an object`);
    checkFieldString(custodian.name, `custodians[${index}].name`, MAX_CUSTODIAN_NAME_LENGTH);
    if (custodian.name.trim().length === 0) throw new CofferError('INVALID_ARGUMENT', `custodians[${index}].name must not be blank`);
    return parseX25519PublicKey(custodian.publicKey, `custodians[${index}].publicKey`);
  });
  if (new Set(keys.map((key) => key.toString('hex'))).size !== keys.length) {
    throw new CofferError('INVALID_ARGUMENT', 'each custodian needs a distinct public key');
  }
  return keys;
}

/**
 * Creates a domain: a random 256-bit domain key split M-of-N, each share HPKE-encrypted to its
 * custodian. Returns the descriptor for the caller to persist; the domain key and the plaintext
 * shares are wiped before returning and exist nowhere else. Bad input → INVALID_ARGUMENT.
 */
export async function initDomain(request: InitDomainRequest, options: { readonly clock?: Clock } = {}): Promise<DomainDescriptor> {
  const publicKeys = checkRequest(request);
  const domainId = randomUUID();
  const domainKey = randomBytes(DOMAIN_KEY_BYTES);
  let shares: Uint8Array[] = [];
  try {
    shares = await splitDomainKey(domainKey, publicKeys.length, request.threshold);
    const custodians: CustodianEntry[] = [];
    for (const [index, spec] of request.custodians.entries()) {
      const share = shares[index];
      const publicKey = publicKeys[index];
      if (share === undefined || publicKey === undefined) throw new CofferError('INTERNAL_ERROR', 'share count mismatch');
      const id = randomUUID();
      custodians.push({
        id,
        name: spec.name,
        publicKey: spec.publicKey,
        encryptedShare: await hpkeSeal(publicKey, shareInfo(domainId, id), share),
        shareDigest: shareDigest(domainId, id, share),
      });
    }
    const auditKey = deriveAuditSigningKey(domainKey);
    // Parsing our own output keeps one definition of a well-formed descriptor and freezes it.
    return parseDomainDescriptor({
      formatVersion: DESCRIPTOR_FORMAT_VERSION,
      domainId,
      createdAt: (options.clock ?? systemClock).now().toISOString(),
      threshold: request.threshold,
      custodians,
      keyCheck: keyCheck(domainKey, domainId),
      auditPublicKey: spkiBase64url(auditKey),
    });
  } finally {
    domainKey.fill(0);
    for (const share of shares) share.fill(0);
  }
}
