// The PKI on Coffer keys: CSRs for a key, certificates attached to keys, built-in CAs (roots and
// intermediates whose keys are Coffer keys), issuance under per-CA profiles, revocation and CRLs.
// Every signature is made by the engine under the caller's own rights and audited there; every
// call is also audited here, allowed or not, with names, ids and serial numbers, never certificates.
import { randomUUID, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificatePolicies, id_ce_certificatePolicies, type Certificate } from '@peculiar/asn1-x509';
import { auditedApprovalCall, type ApprovalAuditScope } from '../approvals/approval-audit.ts';
import type { Barrier } from '../barrier/index.ts';
import type { Caller, KeyEngine, KeyMetadata, KeyRef } from '../core/engine/index.ts';
import { CofferError, type ErrorCode } from '../core/errors.ts';
import { systemClock, type AuditSink, type Clock } from '../core/ports.ts';
import type { Store } from '../store/index.ts';
import { checkCaProfile, type CaProfile, type CaProfileInput } from './ca/ca-profile.ts';
import {
  MAX_CA_DAYS, planLeaf, signCaCrl, signIntermediateCertificate, signLeafCertificate, signRootCertificate, subjectNameOf,
  type Issuer, type LeafOptions,
} from './ca/certificate-authority.ts';
import { chainPem, fingerprintOf, parseCertificateChain, spkiOf } from './certificate-chain.ts';
import { engineSigner, keyVersionOf, type EngineSigner } from './engine-signer.ts';
import { encodePem } from './pem-blocks.ts';
import {
  paths, PkiRecords, type CaRecord, type CrlRecord, type IssuedRecord, type KeyCertificateRecord, type Loaded, type RevokedRecord,
} from './pki-records.ts';
import { pkiSignatureAlgorithm } from './pki-signer.ts';
import { buildCsr, parseCsr, type CsrRequest } from './x509/csr.ts';
import { parseDistinguishedName } from './x509/distinguished-names.ts';
import { CRL_REASONS, extendedKeyUsageName, type CrlReasonName } from './x509/extensions.ts';
import { checkTsaCertificate, timeStamp, type TimeStampOutcome } from './tsa/index.ts';

const DENIALS: ReadonlySet<ErrorCode> = new Set(['ACCESS_DENIED', 'KEY_NOT_FOUND', 'CA_NOT_FOUND', 'CA_POLICY_VIOLATION', 'CERTIFICATE_NOT_FOUND']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SERIAL = /^[0-9a-f]{1,40}$/;
export const MAX_CERTIFICATES_PER_KEY = 20;
export const DEFAULT_ROOT_DAYS = 3650;
export const DEFAULT_INTERMEDIATE_DAYS = 1825;
const MAX_PATH_LENGTH = 10;
const CRL_ATTEMPTS = 5;

export interface KeyCertificateView {
  readonly certificateId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint: string;
  readonly extendedKeyUsage: readonly string[];
  readonly chainLength: number;
  readonly attachedAt: string;
  readonly attachedBy: string;
  /** Leaf then chain, PEM. */
  readonly pem: string;
}

export interface CaView {
  readonly caId: string;
  readonly name: string;
  readonly project: string;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly subject: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly pathLength?: number;
  readonly parentCaId?: string;
  readonly profile: Omit<CaProfile, 'extendedKeyUsage'> & { readonly extendedKeyUsage: readonly string[] };
  /** The CA's own certificate, PEM. */
  readonly certificate: string;
  /** The CA's certificate then each issuer up to the root, PEM. */
  readonly chain: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface IssuedView extends Omit<IssuedRecord, 'certificate'> {
  readonly revokedAt?: string;
  readonly revocationReason?: string;
  /** PEM (in the record: base64 DER). */
  readonly certificate?: string;
  /** The issuing CA's chain up to the root, PEM (with the certificate: a full chain). */
  readonly chain?: string;
}

export interface CrlView {
  readonly caId: string;
  readonly crlNumber: number;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly revokedCount: number;
  readonly crl: string;
}

export interface CsrView {
  readonly csr: string;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly subject: string;
  readonly signatureAlgorithm: string;
}

export interface CreateCaInput {
  readonly name: string;
  readonly key: KeyRef;
  readonly subject: string;
  /** A CA id or project/name: the new CA is an intermediate signed by it. */
  readonly parent?: string;
  readonly validityDays?: number;
  readonly pathLength?: number;
  readonly profile?: CaProfileInput;
}

export interface IssueInput extends LeafOptions {
  readonly csr: string | Uint8Array;
}

/**
 * The TSA policy when the TSA certificate names none: OpenSSL's example policy (tsa_policy1 in its
 * openssl.cnf), so `openssl ts -query -tspolicy tsa_policy1` matches. An organisation with its own
 * policy OID puts it in the TSA certificate's certificatePolicies, and Coffer stamps under that.
 */
export const DEFAULT_TSA_POLICY = '1.2.3.4.1';
const ANY_POLICY = '2.5.29.32.0';

export interface TimeStampResult extends TimeStampOutcome {
  readonly keyId: string;
  readonly policy: string;
}

export interface PkiServiceOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly audit: AuditSink;
  /** The engine of the current unsealed period (throws DOMAIN_SEALED otherwise). */
  readonly engine: () => KeyEngine;
  readonly clock?: Clock;
}

function b64(der: Uint8Array): string {
  return Buffer.from(der).toString('base64');
}

function fromB64(text: string): Buffer {
  return Buffer.from(text, 'base64');
}

function purposesOf(certificate: X509Certificate): string[] {
  // Node's typing says string[], but it is undefined when the certificate has no extendedKeyUsage.
  const purposes: unknown = certificate.keyUsage;
  return Array.isArray(purposes) ? purposes.map((oid) => extendedKeyUsageName(String(oid))) : [];
}

/** A serial number as typed (hex, any case, colons allowed, leading zeros dropped) in Coffer's form. */
export function normaliseSerial(value: unknown): string {
  if (typeof value !== 'string') throw new CofferError('INVALID_ARGUMENT', 'serialNumber must be a hex string');
  const hex = value.replace(/:/g, '').toLowerCase().replace(/^0+(?=.)/, '');
  if (!SERIAL.test(hex)) throw new CofferError('INVALID_ARGUMENT', 'serialNumber must be 1 to 40 hex digits');
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

function checkWholeNumber(value: number | undefined, what: string, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be a whole number from ${min} to ${max}`);
  }
}

export class PkiService {
  readonly #records: PkiRecords;
  readonly #audit: AuditSink;
  readonly #engine: () => KeyEngine;
  readonly #clock: Clock;

  constructor(options: PkiServiceOptions) {
    this.#records = new PkiRecords(options.store, options.barrier);
    this.#audit = options.audit;
    this.#engine = options.engine;
    this.#clock = options.clock ?? systemClock;
  }

  #run<T>(caller: Caller, operation: string, body: (scope: ApprovalAuditScope) => Promise<T>): Promise<T> {
    return auditedApprovalCall(this.#audit, this.#clock, { principal: caller.principal, requestId: caller.requestId, operation }, DENIALS, body);
  }

  async #signer(caller: Caller, ref: KeyRef, scope: ApprovalAuditScope): Promise<EngineSigner> {
    const signer = await engineSigner(this.#engine(), caller, ref);
    scope.keyId = signer.keyId;
    scope.keyVersion = signer.keyVersion;
    scope.project = signer.project;
    return signer;
  }

  // ---- CSRs and certificates attached to keys ----

  /** A PKCS#10 request for the key's current version, signed by that key inside Coffer (use right needed). */
  createCsr(caller: Caller, ref: KeyRef, request: CsrRequest): Promise<CsrView> {
    return this.#run(caller, 'pki.csr', async (scope) => {
      const signer = await this.#signer(caller, ref, scope);
      const algorithm = pkiSignatureAlgorithm(signer.spec);
      const csr = await buildCsr(signer, request);
      scope.detail['subject'] = csr.subject;
      return { csr: csr.pem, keyId: signer.keyId, keyVersion: signer.keyVersion, subject: csr.subject, signatureAlgorithm: algorithm.algorithm };
    });
  }

  /**
   * Attaches a certificate (PEM, leaf first, then its chain) to the key whose public key it
   * certifies; CERTIFICATE_KEY_MISMATCH when no version of the key has that public key. Owner only.
   */
  attachCertificate(caller: Caller, ref: KeyRef, pem: string): Promise<KeyCertificateView> {
    return this.#run(caller, 'pki.certificate.attach', async (scope) => {
      const metadata = await this.#owned(caller, ref, scope);
      const now = this.#clock.now();
      const chain = parseCertificateChain(pem, now);
      const spki = spkiOf(chain.leaf);
      const match = await keyVersionOf(this.#engine(), caller, metadata, spki);
      if (match === undefined) throw new CofferError('CERTIFICATE_KEY_MISMATCH', "the certificate's public key is not this key's");
      const existing = await this.#records.list<KeyCertificateRecord>(paths.keyCertificatePrefix(metadata.id));
      const fingerprint = fingerprintOf(chain.ders[0] ?? Buffer.alloc(0));
      const same = existing.find((record) => record.value.fingerprint === fingerprint);
      scope.keyVersion = match.version;
      scope.detail['serialNumber'] = chain.leaf.serialNumber.toLowerCase();
      scope.detail['subject'] = chain.leaf.subject.replace(/\n/g, ', ');
      if (same !== undefined && same.value.chain.length >= chain.ders.length) return this.#keyCertificateView(same.value);
      if (same === undefined && existing.length >= MAX_CERTIFICATES_PER_KEY) {
        throw new CofferError('INVALID_ARGUMENT', `a key holds at most ${MAX_CERTIFICATES_PER_KEY} certificates; detach one first`);
      }
      const record: KeyCertificateRecord = {
        id: same?.value.id ?? randomUUID(), keyId: metadata.id, keyVersion: match.version, chain: chain.ders.map(b64), fingerprint,
        attachedAt: now.toISOString(), attachedBy: caller.principal,
      };
      await this.#records.commit([this.#records.put(paths.keyCertificate(metadata.id, record.id), record, same?.version ?? 0)]);
      scope.detail['certificateId'] = record.id;
      return this.#keyCertificateView(record);
    });
  }

  listCertificates(caller: Caller, ref: KeyRef): Promise<KeyCertificateView[]> {
    return this.#run(caller, 'pki.certificate.list', async (scope) => {
      const metadata = await this.#readable(caller, ref, scope);
      const records = await this.#records.list<KeyCertificateRecord>(paths.keyCertificatePrefix(metadata.id));
      return records.map((record) => this.#keyCertificateView(record.value)).sort((a, b) => b.attachedAt.localeCompare(a.attachedAt));
    });
  }

  getCertificate(caller: Caller, ref: KeyRef, certificateId: string): Promise<KeyCertificateView> {
    return this.#run(caller, 'pki.certificate.get', async (scope) => {
      const metadata = await this.#readable(caller, ref, scope);
      scope.detail['certificateId'] = certificateId;
      return this.#keyCertificateView((await this.#keyCertificate(metadata.id, certificateId)).value);
    });
  }

  detachCertificate(caller: Caller, ref: KeyRef, certificateId: string): Promise<void> {
    return this.#run(caller, 'pki.certificate.detach', async (scope) => {
      const metadata = await this.#owned(caller, ref, scope);
      scope.detail['certificateId'] = certificateId;
      const found = await this.#keyCertificate(metadata.id, certificateId);
      await this.#records.commit([this.#records.delete(paths.keyCertificate(metadata.id, certificateId), found.version)]);
    });
  }

  /** Certificates attached to a key version, newest first (for the TSA and the signing service). */
  async certificatesOf(keyId: string, keyVersion: number): Promise<KeyCertificateRecord[]> {
    const records = await this.#records.list<KeyCertificateRecord>(paths.keyCertificatePrefix(keyId));
    return records.map((record) => record.value).filter((record) => record.keyVersion === keyVersion).sort((a, b) => b.attachedAt.localeCompare(a.attachedAt));
  }

  async #keyCertificate(keyId: string, certificateId: string): Promise<Loaded<KeyCertificateRecord>> {
    const found = UUID.test(certificateId) ? await this.#records.get<KeyCertificateRecord>(paths.keyCertificate(keyId, certificateId)) : undefined;
    if (found === undefined) throw new CofferError('CERTIFICATE_NOT_FOUND', 'no certificate with this id is attached to the key');
    return found;
  }

  #keyCertificateView(record: KeyCertificateRecord): KeyCertificateView {
    const ders = record.chain.map(fromB64);
    const leaf = new X509Certificate(ders[0] ?? Buffer.alloc(0));
    return {
      certificateId: record.id, keyId: record.keyId, keyVersion: record.keyVersion,
      subject: leaf.subject.replace(/\n/g, ', '), issuer: leaf.issuer.replace(/\n/g, ', '), serialNumber: leaf.serialNumber.toLowerCase(),
      notBefore: leaf.validFromDate.toISOString(), notAfter: leaf.validToDate.toISOString(), fingerprint: record.fingerprint,
      extendedKeyUsage: purposesOf(leaf), chainLength: ders.length, attachedAt: record.attachedAt, attachedBy: record.attachedBy,
      pem: chainPem(ders),
    };
  }

  async #readable(caller: Caller, ref: KeyRef, scope: ApprovalAuditScope): Promise<KeyMetadata> {
    const metadata = await this.#engine().keys.describe(caller, ref);
    scope.keyId = metadata.id;
    scope.project = metadata.project;
    return metadata;
  }

  async #owned(caller: Caller, ref: KeyRef, scope: ApprovalAuditScope): Promise<KeyMetadata> {
    const metadata = await this.#readable(caller, ref, scope);
    const usesKeys = caller.roles.includes('user') || caller.roles.includes('service');
    if (!usesKeys || metadata.owner !== caller.principal) throw new CofferError('ACCESS_DENIED', "only the key's owner may change its certificates or make it a CA");
    return metadata;
  }

  // ---- time-stamping ----

  /**
   * Answers an RFC 3161 query with the key's time-stamping certificate (the newest attached to its
   * current version with a critical timeStamping-only purpose), signing inside Coffer under the
   * caller's use right. A bad query gets a rejection reply (status 2), not an error.
   */
  timeStamp(caller: Caller, ref: KeyRef, query: Uint8Array): Promise<TimeStampResult> {
    return this.#run(caller, 'tsa.stamp', async (scope) => {
      const signer = await this.#signer(caller, ref, scope);
      const now = this.#clock.now();
      let chosen: { certificateDer: Buffer; chainDer: Buffer[]; certificate: Certificate } | undefined;
      for (const record of await this.certificatesOf(signer.keyId, signer.keyVersion)) {
        const ders = record.chain.map(fromB64);
        const [certificateDer, ...chainDer] = ders;
        if (certificateDer === undefined) continue;
        try {
          chosen = { certificateDer, chainDer, certificate: checkTsaCertificate(certificateDer, signer.publicKeyDer, now).certificate };
          break;
        } catch {
          continue;
        }
      }
      if (chosen === undefined) {
        throw new CofferError('TSA_NOT_CONFIGURED', 'attach a time-stamping certificate (critical extendedKeyUsage timeStamping only) for the key’s current version first');
      }
      const policy = tsaPolicyOf(chosen.certificate);
      const outcome = await timeStamp(signer, { certificateDer: chosen.certificateDer, chainDer: chosen.chainDer, policy }, query, now);
      scope.detail['granted'] = outcome.granted;
      if (outcome.failure !== undefined) scope.detail['failure'] = outcome.failure;
      if (outcome.serialNumber !== undefined) scope.detail['serialNumber'] = outcome.serialNumber;
      if (outcome.hash !== undefined) scope.detail['hash'] = outcome.hash;
      if (outcome.hashedMessage !== undefined) scope.inputDigest = outcome.hashedMessage;
      return { ...outcome, keyId: signer.keyId, policy };
    });
  }

  // ---- certificate authorities ----

  /** A root CA (self-signed) or, with `parent`, an intermediate signed by that CA. The caller owns the key. */
  createCa(caller: Caller, input: CreateCaInput): Promise<CaView> {
    return this.#run(caller, 'pki.ca.create', async (scope) => {
      if (typeof input.name !== 'string' || !CA_NAME.test(input.name)) {
        throw new CofferError('INVALID_ARGUMENT', 'name must be 1 to 64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit');
      }
      scope.detail['name'] = input.name;
      const { name: subject, text: subjectText } = parseDistinguishedName(input.subject);
      checkWholeNumber(input.validityDays, 'validityDays', 1, MAX_CA_DAYS);
      checkWholeNumber(input.pathLength, 'pathLength', 0, MAX_PATH_LENGTH);
      const profile = checkCaProfile(input.profile);
      const metadata = await this.#owned(caller, input.key, scope);
      if (metadata.usage !== 'SIGN_VERIFY') throw new CofferError('KEY_USAGE_NOT_ALLOWED', 'a CA key must be a SIGN_VERIFY key');
      pkiSignatureAlgorithm(metadata.spec);
      const signer = await this.#signer(caller, metadata.id, scope);
      if (await this.#records.get(paths.caName(signer.project, input.name)) !== undefined) {
        throw new CofferError('CA_ALREADY_EXISTS', `a CA named ${input.name} already exists in project ${signer.project}`);
      }
      const now = this.#clock.now();
      const caId = randomUUID();
      scope.detail['caId'] = caId;
      let parent: Loaded<CaRecord> | undefined;
      let issued;
      let pathLength = input.pathLength;
      if (input.parent === undefined) {
        issued = await signRootCertificate(signer, { subject, publicKeyDer: signer.publicKeyDer, validityDays: input.validityDays ?? DEFAULT_ROOT_DAYS, ...(pathLength === undefined ? {} : { pathLength }), profile, now });
      } else {
        parent = await this.#visibleCa(caller, input.parent);
        scope.detail['parentCaId'] = parent.value.id;
        const parentLength = parent.value.pathLength;
        if (parentLength !== undefined) {
          if (parentLength === 0) throw new CofferError('CA_POLICY_VIOLATION', `CA ${parent.value.name} may not issue CA certificates (path length 0)`);
          if (pathLength !== undefined && pathLength >= parentLength) throw new CofferError('CA_POLICY_VIOLATION', `the path length must be below ${parentLength}, that of CA ${parent.value.name}`);
          pathLength ??= parentLength - 1;
        }
        const issuer = await this.#issuer(caller, parent.value, scope);
        issued = await signIntermediateCertificate(issuer, { subject, publicKeyDer: signer.publicKeyDer, validityDays: input.validityDays ?? DEFAULT_INTERMEDIATE_DAYS, ...(pathLength === undefined ? {} : { pathLength }), profile, now });
      }
      const record: CaRecord = {
        id: caId, name: input.name, project: signer.project, keyId: signer.keyId, keyVersion: signer.keyVersion, subject: subjectText,
        chain: [b64(issued.der), ...(parent?.value.chain ?? [])], serialNumber: issued.serialNumber, keyIdentifier: issued.keyIdentifier,
        notBefore: issued.notBefore.toISOString(), notAfter: issued.notAfter.toISOString(),
        ...(pathLength === undefined ? {} : { pathLength }), ...(parent === undefined ? {} : { parentId: parent.value.id }),
        profile, createdAt: now.toISOString(), createdBy: caller.principal,
      };
      // A first, empty CRL, so relying parties that check revocation work from the start.
      const crl = await signCaCrl(this.#issuerFrom(record, signer), [], 1, now, profile.crlValidityHours);
      const writes = [
        this.#records.put(paths.ca(caId), record, 0),
        this.#records.put(paths.caName(record.project, record.name), { caId }, 0),
        this.#records.put(paths.crl(caId), crlRecord(1, crl, 0), 0),
      ];
      if (parent !== undefined) {
        const leaf = new X509Certificate(issued.der);
        const entry: IssuedRecord = {
          caId: parent.value.id, serialNumber: issued.serialNumber, subject: subjectText, notBefore: record.notBefore, notAfter: record.notAfter,
          fingerprint: fingerprintOf(issued.der), extendedKeyUsage: purposesOf(leaf), certificate: b64(issued.der), issuedAt: record.createdAt,
          issuedBy: caller.principal, childCaId: caId,
        };
        writes.push(this.#records.put(paths.issued(parent.value.id, issued.serialNumber), entry, 0));
      }
      try {
        await this.#records.commit(writes);
      } catch (error) {
        if (error instanceof CofferError && error.code === 'STORE_CONFLICT') throw new CofferError('CA_ALREADY_EXISTS', `a CA named ${input.name} already exists in project ${record.project}`);
        throw error;
      }
      scope.detail['serialNumber'] = issued.serialNumber;
      return caView(record);
    });
  }

  listCas(caller: Caller, project?: string): Promise<CaView[]> {
    return this.#run(caller, 'pki.ca.list', async (scope) => {
      if (project !== undefined) {
        if (!caller.projects.includes(project)) throw new CofferError('ACCESS_DENIED', 'the caller is not a member of this project');
        scope.project = project;
      }
      const records = await this.#records.list<CaRecord>(paths.caPrefix);
      return records.map((record) => record.value)
        .filter((record) => (project === undefined ? caller.projects.includes(record.project) : record.project === project))
        .sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name))
        .map(caView);
    });
  }

  getCa(caller: Caller, ref: string): Promise<CaView> {
    return this.#run(caller, 'pki.ca.get', async (scope) => caView(this.#scoped(scope, await this.#visibleCa(caller, ref)).value));
  }

  /** An end-entity certificate for a CSR, held to the CA's profile; the caller must be able to use the CA's key. */
  issue(caller: Caller, ref: string, input: IssueInput): Promise<IssuedView> {
    return this.#run(caller, 'pki.issue', async (scope) => {
      const ca = this.#scoped(scope, await this.#visibleCa(caller, ref)).value;
      const csr = parseCsr(input.csr);
      scope.detail['subject'] = csr.subjectText;
      const ancestors = await this.#ancestors(ca);
      const plan = planLeaf(csr, input, ca.profile, ca.name, ancestors.map((record) => record.profile));
      const issuer = await this.#issuer(caller, ca, scope);
      const now = this.#clock.now();
      const issued = await signLeafCertificate(issuer, csr, plan, now);
      const leaf = new X509Certificate(issued.der);
      const record: IssuedRecord = {
        caId: ca.id, serialNumber: issued.serialNumber, subject: csr.subjectText, notBefore: issued.notBefore.toISOString(),
        notAfter: issued.notAfter.toISOString(), fingerprint: fingerprintOf(issued.der), extendedKeyUsage: purposesOf(leaf),
        certificate: b64(issued.der), issuedAt: now.toISOString(), issuedBy: caller.principal,
      };
      await this.#records.commit([this.#records.put(paths.issued(ca.id, issued.serialNumber), record, 0)]);
      scope.detail['serialNumber'] = issued.serialNumber;
      return issuedView(record, undefined, ca, true);
    });
  }

  listIssued(caller: Caller, ref: string): Promise<IssuedView[]> {
    return this.#run(caller, 'pki.issued.list', async (scope) => {
      const ca = this.#scoped(scope, await this.#visibleCa(caller, ref)).value;
      const [issued, revoked] = await Promise.all([
        this.#records.list<IssuedRecord>(paths.issuedPrefix(ca.id)),
        this.#records.list<RevokedRecord>(paths.revokedPrefix(ca.id)),
      ]);
      const revocations = new Map(revoked.map((entry) => [entry.value.serialNumber, entry.value]));
      return issued.map((entry) => issuedView(entry.value, revocations.get(entry.value.serialNumber), ca, false))
        .sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));
    });
  }

  getIssued(caller: Caller, ref: string, serialNumber: string): Promise<IssuedView> {
    return this.#run(caller, 'pki.issued.get', async (scope) => {
      const ca = this.#scoped(scope, await this.#visibleCa(caller, ref)).value;
      const serial = normaliseSerial(serialNumber);
      scope.detail['serialNumber'] = serial;
      const issued = await this.#records.get<IssuedRecord>(paths.issued(ca.id, serial));
      if (issued === undefined) throw new CofferError('CERTIFICATE_NOT_FOUND', `CA ${ca.name} issued no certificate with serial ${serial}`);
      const revoked = await this.#records.get<RevokedRecord>(paths.revoked(ca.id, serial));
      return issuedView(issued.value, revoked?.value, ca, true);
    });
  }

  /** Revokes a certificate the CA issued and publishes a new CRL with it, in one commit. */
  revoke(caller: Caller, ref: string, serialNumber: string, reason: string = 'unspecified'): Promise<{ serialNumber: string; revokedAt: string; reason: string; crlNumber: number }> {
    return this.#run(caller, 'pki.revoke', async (scope) => {
      const ca = this.#scoped(scope, await this.#visibleCa(caller, ref)).value;
      const serial = normaliseSerial(serialNumber);
      scope.detail['serialNumber'] = serial;
      if (!Object.hasOwn(CRL_REASONS, reason)) throw new CofferError('INVALID_ARGUMENT', `reason must be one of ${Object.keys(CRL_REASONS).join(', ')}`);
      scope.detail['reason'] = reason;
      if (await this.#records.get(paths.issued(ca.id, serial)) === undefined) {
        throw new CofferError('CERTIFICATE_NOT_FOUND', `CA ${ca.name} issued no certificate with serial ${serial}`);
      }
      const issuer = await this.#issuer(caller, ca, scope);
      const revokedAt = this.#clock.now();
      const entry: RevokedRecord = { serialNumber: serial, revokedAt: revokedAt.toISOString(), reason, revokedBy: caller.principal };
      const crl = await this.#publish(ca, issuer, entry);
      scope.detail['crlNumber'] = crl.crlNumber;
      return { serialNumber: serial, revokedAt: entry.revokedAt, reason, crlNumber: crl.crlNumber };
    });
  }

  /** Signs and stores a fresh CRL (the next number); run before the current one's nextUpdate. */
  publishCrl(caller: Caller, ref: string): Promise<CrlView> {
    return this.#run(caller, 'pki.crl.publish', async (scope) => {
      const ca = this.#scoped(scope, await this.#visibleCa(caller, ref)).value;
      const crl = await this.#publish(ca, await this.#issuer(caller, ca, scope), undefined);
      scope.detail['crlNumber'] = crl.crlNumber;
      return crlView(ca.id, crl);
    });
  }

  getCrl(caller: Caller, ref: string): Promise<CrlView> {
    return this.#run(caller, 'pki.crl.get', async (scope) => {
      const ca = this.#scoped(scope, await this.#visibleCa(caller, ref)).value;
      const crl = await this.#records.get<CrlRecord>(paths.crl(ca.id));
      if (crl === undefined) throw new CofferError('STORE_CORRUPT', `CA ${ca.name} has no CRL record`);
      return crlView(ca.id, crl.value);
    });
  }

  /**
   * Signs the CRL with every revocation (plus `added`) and commits it with `added` against the
   * versions read; a concurrent revocation makes it re-read and sign again.
   */
  async #publish(ca: CaRecord, issuer: Issuer, added: RevokedRecord | undefined): Promise<CrlRecord> {
    for (let attempt = 1; ; attempt++) {
      const [current, revoked] = await Promise.all([
        this.#records.get<CrlRecord>(paths.crl(ca.id)),
        this.#records.list<RevokedRecord>(paths.revokedPrefix(ca.id)),
      ]);
      if (added !== undefined && revoked.some((entry) => entry.value.serialNumber === added.serialNumber)) {
        throw new CofferError('CERTIFICATE_ALREADY_REVOKED', `certificate ${added.serialNumber} is already revoked`);
      }
      const all = [...revoked.map((entry) => entry.value), ...(added === undefined ? [] : [added])];
      const crlNumber = (current?.value.crlNumber ?? 0) + 1;
      const signed = await signCaCrl(issuer, all.map((entry) => ({
        serialNumber: entry.serialNumber, revokedAt: new Date(entry.revokedAt), reason: entry.reason as CrlReasonName,
      })), crlNumber, this.#clock.now(), ca.profile.crlValidityHours);
      const record = crlRecord(crlNumber, signed, all.length);
      try {
        await this.#records.commit([
          this.#records.put(paths.crl(ca.id), record, current?.version ?? 0),
          ...(added === undefined ? [] : [this.#records.put(paths.revoked(ca.id, added.serialNumber), added, 0)]),
        ]);
        return record;
      } catch (error) {
        if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT') || attempt >= CRL_ATTEMPTS) throw error;
      }
    }
  }

  #scoped(scope: ApprovalAuditScope, ca: Loaded<CaRecord>): Loaded<CaRecord> {
    scope.project = ca.value.project;
    scope.keyId = ca.value.keyId;
    scope.detail['caId'] = ca.value.id;
    scope.detail['ca'] = ca.value.name;
    return ca;
  }

  /** The CA named by id or project/name, if the caller is in its project or may see its key; CA_NOT_FOUND otherwise. */
  async #visibleCa(caller: Caller, ref: string): Promise<Loaded<CaRecord>> {
    const found = await this.#findCa(ref);
    if (found === undefined) throw new CofferError('CA_NOT_FOUND', 'no such certificate authority');
    if (caller.projects.includes(found.value.project)) return found;
    try {
      await this.#engine().keys.describe(caller, found.value.keyId);
      return found;
    } catch (error) {
      if (error instanceof CofferError && error.code === 'KEY_NOT_FOUND') throw new CofferError('CA_NOT_FOUND', 'no such certificate authority');
      throw error;
    }
  }

  async #findCa(ref: string): Promise<Loaded<CaRecord> | undefined> {
    if (typeof ref !== 'string') return undefined;
    if (UUID.test(ref)) return this.#records.get<CaRecord>(paths.ca(ref));
    const slash = ref.indexOf('/');
    if (slash <= 0 || slash === ref.length - 1) throw new CofferError('INVALID_ARGUMENT', 'a CA is named by its id (uuid) or as project/name');
    const index = await this.#records.get<{ caId: string }>(paths.caName(ref.slice(0, slash), ref.slice(slash + 1)));
    return index === undefined ? undefined : this.#records.get<CaRecord>(paths.ca(index.value.caId));
  }

  async #ancestors(ca: CaRecord): Promise<CaRecord[]> {
    const ancestors: CaRecord[] = [];
    let parentId = ca.parentId;
    while (parentId !== undefined && ancestors.length <= MAX_PATH_LENGTH + 1) {
      const parent = await this.#records.get<CaRecord>(paths.ca(parentId));
      if (parent === undefined) break;
      ancestors.push(parent.value);
      parentId = parent.value.parentId;
    }
    return ancestors;
  }

  /** The CA's signer, refused when its key was rotated past the version its certificate names. */
  async #issuer(caller: Caller, ca: CaRecord, scope: ApprovalAuditScope): Promise<Issuer> {
    const signer = await engineSigner(this.#engine(), caller, ca.keyId);
    if (signer.keyVersion !== ca.keyVersion) {
      throw new CofferError('CERTIFICATE_KEY_MISMATCH', `the key of CA ${ca.name} was rotated to version ${signer.keyVersion}; its certificate names version ${ca.keyVersion}: make a new CA for the new version`);
    }
    scope.keyVersion = signer.keyVersion;
    return this.#issuerFrom(ca, signer);
  }

  #issuerFrom(ca: CaRecord, signer: EngineSigner): Issuer {
    const own = fromB64(ca.chain[0] ?? '');
    return { signer, name: subjectNameOf(own), keyIdentifier: Buffer.from(ca.keyIdentifier, 'hex'), notAfter: new Date(ca.notAfter), profile: ca.profile };
  }
}

/** The one policy a TSA certificate names (anyPolicy aside), else DEFAULT_TSA_POLICY. */
function tsaPolicyOf(certificate: Certificate): string {
  const extension = certificate.tbsCertificate.extensions?.find((item) => item.extnID === id_ce_certificatePolicies);
  const policies = extension === undefined ? [] : [...AsnConvert.parse(extension.extnValue, CertificatePolicies)];
  const named = policies.map((policy) => policy.policyIdentifier).filter((oid) => oid !== ANY_POLICY);
  return named.length === 1 && named[0] !== undefined && /^[0-2](?:\.(?:0|[1-9][0-9]{0,8})){1,20}$/.test(named[0]) ? named[0] : DEFAULT_TSA_POLICY;
}

function crlRecord(crlNumber: number, signed: { der: Buffer; thisUpdate: Date; nextUpdate: Date }, revokedCount: number): CrlRecord {
  return { crlNumber, thisUpdate: signed.thisUpdate.toISOString(), nextUpdate: signed.nextUpdate.toISOString(), revokedCount, crl: b64(signed.der) };
}

function crlView(caId: string, record: CrlRecord): CrlView {
  return {
    caId, crlNumber: record.crlNumber, thisUpdate: record.thisUpdate, nextUpdate: record.nextUpdate, revokedCount: record.revokedCount,
    crl: encodePem('X509 CRL', fromB64(record.crl)),
  };
}

function caView(record: CaRecord): CaView {
  const ders = record.chain.map(fromB64);
  return {
    caId: record.id, name: record.name, project: record.project, keyId: record.keyId, keyVersion: record.keyVersion, subject: record.subject,
    serialNumber: record.serialNumber, notBefore: record.notBefore, notAfter: record.notAfter,
    ...(record.pathLength === undefined ? {} : { pathLength: record.pathLength }),
    ...(record.parentId === undefined ? {} : { parentCaId: record.parentId }),
    profile: { ...record.profile, extendedKeyUsage: record.profile.extendedKeyUsage.map(extendedKeyUsageName) },
    certificate: encodePem('CERTIFICATE', ders[0] ?? Buffer.alloc(0)), chain: chainPem(ders),
    createdAt: record.createdAt, createdBy: record.createdBy,
  };
}

function issuedView(record: IssuedRecord, revoked: RevokedRecord | undefined, ca: CaRecord, withPem: boolean): IssuedView {
  return {
    caId: record.caId, serialNumber: record.serialNumber, subject: record.subject, notBefore: record.notBefore, notAfter: record.notAfter,
    fingerprint: record.fingerprint, extendedKeyUsage: record.extendedKeyUsage, issuedAt: record.issuedAt, issuedBy: record.issuedBy,
    ...(revoked === undefined ? {} : { revokedAt: revoked.revokedAt, revocationReason: revoked.reason }),
    ...(record.childCaId === undefined ? {} : { childCaId: record.childCaId }),
    ...(withPem ? { certificate: encodePem('CERTIFICATE', fromB64(record.certificate)), chain: chainPem(ca.chain.map(fromB64)) } : {}),
  };
}
