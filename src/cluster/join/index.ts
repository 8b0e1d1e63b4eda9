// Joining a running cluster through attestation: the admitter and the joiner.
export { Admitter, DEFAULT_ADMIT_POLL_MS } from './admitter.ts';
export type { AdmitPass, AdmitterOptions, CertifyHook, CertifyRequest, NodeCertificate } from './admitter.ts';
export { JOIN_REQUEST_PREFIX, JOIN_REQUEST_TTL_MS, MAX_JOIN_CSR_CHARS } from './join-request.ts';
export type { JoinRequestRecord, JoinStatus } from './join-request.ts';
export { joinCluster, joinTokenEvidence, staticEvidence } from './joiner.ts';
export type { JoinBinding, JoinEvidence, JoinOptions, JoinOutcome } from './joiner.ts';
