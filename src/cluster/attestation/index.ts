// Attestation for cluster joins: the provider interface, its providers and their configuration.
export { AttestationRefused, REFUSAL_REASONS, refuse } from './attestation-provider.ts';
export type { AdmittedIdentity, AttestationContext, AttestationProvider, AttestationResult, RefusalReason } from './attestation-provider.ts';
export { createAttestationProvider, parseJoinConfig } from './attestation-config.ts';
export type { JoinConfig } from './attestation-config.ts';
export * from './aws-ec2/index.ts';
export * from './join-token/index.ts';
export { checkNodeName, isNodeName } from './node-name.ts';
