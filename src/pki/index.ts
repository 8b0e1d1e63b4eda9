// The development PKI for mutual TLS and certificate helpers: public surface only.
export { certificateFingerprint, certificateSubjectCommonName } from './certificate-parsing.ts';
export type { CertificateAuthorityPem } from './certificate-issuer.ts';
export { issueClientCertificate } from './client-certificate.ts';
export type { IssueClientCertificateOptions, IssuedClientCertificate } from './client-certificate.ts';
export { ensureDevPki } from './dev-pki.ts';
export type { ClientCredentialPaths, DevPki, DevPkiOptions } from './dev-pki.ts';
