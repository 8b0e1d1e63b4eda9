// The PKI on Coffer keys (CSRs, certificates, CAs, time-stamps) and the development PKI: public surface only.
export { certificateFingerprint, certificateSubjectCommonName } from './certificate-parsing.ts';
export type { CertificateAuthorityPem } from './certificate-issuer.ts';
export { issueClientCertificate } from './client-certificate.ts';
export type { IssueClientCertificateOptions, IssuedClientCertificate } from './client-certificate.ts';
export { ensureDevPki } from './dev-pki.ts';
export type { ClientCredentialPaths, DevPki, DevPkiOptions } from './dev-pki.ts';
export { PkiService, DEFAULT_TSA_POLICY, normaliseSerial } from './pki-service.ts';
export type {
  CaView, CreateCaInput, CrlView, CsrView, IssuedView, IssueInput, KeyCertificateView, PkiServiceOptions, TimeStampResult,
} from './pki-service.ts';
export type { CaProfile, CaProfileInput } from './ca/ca-profile.ts';
export type { PkiSigner } from './pki-signer.ts';
