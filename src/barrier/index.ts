// The security domain and the barrier: public surface only.
export { Barrier, domainKeyTransferInfo, JOIN_INFO_LABEL } from './barrier.ts';
export type { BarrierOptions, DomainKeyTransferBinding, BarrierState, PlainShare, UnsealProgress, UnsealSessionInfo } from './barrier.ts';
export { createCustodianKeyPair, openShare, prepareUnsealShare } from './custodian.ts';
export type { CustodianKeyPair, UnsealSessionTicket } from './custodian.ts';
export { DESCRIPTOR_FORMAT_VERSION, MAX_CUSTODIANS, parseDomainDescriptor } from './domain-descriptor.ts';
export type { CustodianEntry, DomainDescriptor, HpkeCiphertext, UnsealShareEnvelope } from './domain-descriptor.ts';
export { initDomain } from './domain-init.ts';
export type { CustodianSpec, InitDomainRequest } from './domain-init.ts';
export { RECORD_OVERHEAD } from './record-cipher.ts';
export { UNSEAL_SESSION_LIFETIME_MS } from './unseal-session.ts';
