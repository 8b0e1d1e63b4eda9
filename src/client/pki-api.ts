// /v1/keys/:id/csr and /certificates, /v1/pki/cas: certificate requests and certificates of Coffer
// keys, and Coffer's CAs (create, issue, revoke, CRLs). Keys and CAs are named by id or project/name;
// a name is looked up first, since the routes take ids.
import { CofferError } from '../core/errors.ts';
import type { CaProfileInput } from '../pki/ca/ca-profile.ts';
import { encodePem, looksLikePem } from '../pki/pem-blocks.ts';
import type { CaView, CrlView, CsrView, IssuedView, KeyCertificateView } from '../pki/pki-service.ts';
import type { CrlReasonName } from '../pki/x509/extensions.ts';
import type { KeyRef } from './api-types.ts';
import { keyIdOf, keyRefText } from './key-api.ts';
import type { Transport } from './transport.ts';

export type { CaProfileInput, CaView, CrlView, CsrView, IssuedView, KeyCertificateView };

/** A CA by its id (uuid) or as project/name. */
export type CaRef = string;

export type RevocationReason = CrlReasonName;

export interface AltNamesInput {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly emails?: readonly string[];
  readonly uris?: readonly string[];
}

export interface CsrRequest extends AltNamesInput {
  /** RFC 4514, e.g. "CN=Release signing, O=Acme, C=US". */
  readonly subject: string;
  /** digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign. */
  readonly keyUsage?: readonly string[];
  /** serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or dotted OIDs. */
  readonly extendedKeyUsage?: readonly string[];
}

export interface CreateCaRequest {
  readonly name: string;
  /** The CA's own signing key; the CA belongs to its project. */
  readonly key: KeyRef;
  readonly subject: string;
  /** The issuing CA for an intermediate; none for a root. */
  readonly parent?: CaRef;
  readonly validityDays?: number;
  readonly pathLength?: number;
  readonly profile?: CaProfileInput;
}

export interface CaListQuery {
  readonly project?: string;
  readonly name?: string;
}

export interface IssueRequest extends AltNamesInput {
  /** PKCS#10: PEM text, or DER (or PEM) bytes. */
  readonly csr: string | Uint8Array;
  readonly validityDays?: number;
  /** These override what the CSR asks for; the CA's profile must allow each. */
  readonly keyUsage?: readonly string[];
  readonly extendedKeyUsage?: readonly string[];
}

export interface IssueForKeyRequest extends CsrRequest {
  readonly validityDays?: number;
}

export interface Revocation {
  readonly serialNumber: string;
  readonly revokedAt: string;
  readonly reason: RevocationReason;
  readonly crlNumber: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const segment = (value: string): string => encodeURIComponent(value);

/** A CaRef as the id it names, or the project and name to look up. */
export function parseCaRef(ref: CaRef): { id: string } | { project: string; name: string } {
  if (UUID.test(ref)) return { id: ref };
  const slash = ref.indexOf('/');
  if (slash > 0 && slash < ref.length - 1 && !ref.includes('/', slash + 1)) return { project: ref.slice(0, slash), name: ref.slice(slash + 1) };
  throw new CofferError('INVALID_ARGUMENT', `a CA is named by its id (uuid) or as project/name, not ${JSON.stringify(ref.slice(0, 140))}`);
}

/** PEM text for a CSR given as text, PEM bytes or DER bytes (the API takes PEM). */
function csrPem(csr: string | Uint8Array): string {
  if (typeof csr === 'string') return csr;
  const bytes = Buffer.from(csr.buffer, csr.byteOffset, csr.byteLength);
  return looksLikePem(bytes.subarray(0, 4096).toString('latin1')) ? bytes.toString('utf8') : encodePem('CERTIFICATE REQUEST', bytes);
}

/** PEM blocks joined one after another, each ending in a newline (leaf first, then its chain). */
export function joinPem(...parts: readonly string[]): string {
  return parts.filter((part) => part.trim() !== '').map((part) => (part.endsWith('\n') ? part : `${part}\n`)).join('');
}

export class PkiApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** A PKCS#10 request signed inside Coffer by the key's current version (idempotent: a pure signature). */
  async createCsr(keyRef: KeyRef, request: CsrRequest): Promise<CsrView> {
    const id = await keyIdOf(this.#http, keyRef);
    return (await this.#http.send('POST', `/v1/keys/${id}/csr`, { body: request, idempotent: true })) as CsrView;
  }

  /** Attaches a certificate for the key (PEM, leaf first then its chain): CERTIFICATE_KEY_MISMATCH if it certifies another key. */
  async attachCertificate(keyRef: KeyRef, pem: string): Promise<KeyCertificateView> {
    const id = await keyIdOf(this.#http, keyRef);
    return (await this.#http.send('POST', `/v1/keys/${id}/certificates`, { body: { certificate: pem } })) as KeyCertificateView;
  }

  async listCertificates(keyRef: KeyRef): Promise<KeyCertificateView[]> {
    const id = await keyIdOf(this.#http, keyRef);
    return listOf<KeyCertificateView>(await this.#http.send('GET', `/v1/keys/${id}/certificates`), 'certificates');
  }

  async getCertificate(keyRef: KeyRef, certificateId: string): Promise<KeyCertificateView> {
    const id = await keyIdOf(this.#http, keyRef);
    return (await this.#http.send('GET', `/v1/keys/${id}/certificates/${segment(certificateId)}`)) as KeyCertificateView;
  }

  async detachCertificate(keyRef: KeyRef, certificateId: string): Promise<void> {
    const id = await keyIdOf(this.#http, keyRef);
    await this.#http.send('DELETE', `/v1/keys/${id}/certificates/${segment(certificateId)}`);
  }

  /** A root CA, or with `parent` an intermediate signed by that CA; its key must be a Coffer signing key. */
  async createCa(request: CreateCaRequest): Promise<CaView> {
    const { key, ...rest } = request;
    return (await this.#http.send('POST', '/v1/pki/cas', { body: { ...rest, key: keyRefText(key) } })) as CaView;
  }

  async listCas(query: CaListQuery = {}): Promise<CaView[]> {
    return listOf<CaView>(await this.#http.send('GET', '/v1/pki/cas', { query: { ...query } }), 'cas');
  }

  async getCa(caRef: CaRef): Promise<CaView> {
    return (await this.#http.send('GET', `/v1/pki/cas/${await this.#caIdOf(caRef)}`)) as CaView;
  }

  /** Issues an end-entity certificate for a CSR; `chain` is the CA's chain up to the root. */
  async issue(caRef: CaRef, request: IssueRequest): Promise<IssuedView> {
    const id = await this.#caIdOf(caRef);
    return (await this.#http.send('POST', `/v1/pki/cas/${id}/issue`, { body: { ...request, csr: csrPem(request.csr) } })) as IssuedView;
  }

  /** What the CA issued (without PEM: getIssued has it). */
  async listIssued(caRef: CaRef): Promise<IssuedView[]> {
    const id = await this.#caIdOf(caRef);
    return listOf<IssuedView>(await this.#http.send('GET', `/v1/pki/cas/${id}/certificates`), 'certificates');
  }

  async getIssued(caRef: CaRef, serialNumber: string): Promise<IssuedView> {
    const id = await this.#caIdOf(caRef);
    return (await this.#http.send('GET', `/v1/pki/cas/${id}/certificates/${segment(serialNumber)}`)) as IssuedView;
  }

  /** Revokes a certificate the CA issued (serial in hex); the answer names the CRL that lists it. */
  async revoke(caRef: CaRef, serialNumber: string, reason?: RevocationReason): Promise<Revocation> {
    const id = await this.#caIdOf(caRef);
    const body = reason === undefined ? { serialNumber } : { serialNumber, reason };
    return (await this.#http.send('POST', `/v1/pki/cas/${id}/revoke`, { body })) as Revocation;
  }

  async getCrl(caRef: CaRef): Promise<CrlView> {
    return (await this.#http.send('GET', `/v1/pki/cas/${await this.#caIdOf(caRef)}/crl`)) as CrlView;
  }

  /** Signs and publishes a new CRL (a new crlNumber: not idempotent). */
  async publishCrl(caRef: CaRef): Promise<CrlView> {
    return (await this.#http.send('POST', `/v1/pki/cas/${await this.#caIdOf(caRef)}/crl`)) as CrlView;
  }

  /**
   * A certificate for a Coffer key: a CSR made inside Coffer, issued by the CA, then attached to
   * the key with the CA's chain. The CSR carries the names and usages; the CA's profile rules.
   */
  async issueForKey(caRef: CaRef, keyRef: KeyRef, request: IssueForKeyRequest): Promise<{ issued: IssuedView; attached: KeyCertificateView }> {
    const { validityDays, ...csrRequest } = request;
    // Resolved once, so the CSR and the attachment cannot name two different keys.
    const keyId = await keyIdOf(this.#http, keyRef);
    const csr = await this.createCsr(keyId, csrRequest);
    const issued = await this.issue(caRef, { csr: csr.csr, ...(validityDays === undefined ? {} : { validityDays }) });
    if (issued.certificate === undefined) throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the issue answer holds no certificate');
    const attached = await this.attachCertificate(keyId, joinPem(issued.certificate, issued.chain ?? ''));
    return { issued, attached };
  }

  async #caIdOf(ref: CaRef): Promise<string> {
    const parsed = parseCaRef(ref);
    if ('id' in parsed) return parsed.id;
    const found = await this.listCas(parsed);
    const [only] = found;
    if (found.length !== 1 || only === undefined) throw new CofferError('CA_NOT_FOUND', `no certificate authority ${parsed.project}/${parsed.name} is visible to you`);
    return only.caId;
  }
}

function listOf<T>(answer: unknown, field: string): T[] {
  const list = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(list)) throw new CofferError('CLIENT_PROTOCOL_ERROR', `the answer holds no ${field} list`);
  return list as T[];
}
