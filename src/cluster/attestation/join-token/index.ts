// Join token provider: public surface.
export { DEFAULT_TOKEN_LIFETIME_S, JOIN_TOKEN_PREFIX, JOIN_TOKEN_PROVIDER, JoinTokenProvider, MAX_TOKEN_LIFETIME_S } from './join-token-provider.ts';
export type { IssuedJoinToken, JoinTokenEvidence, JoinTokenOptions, JoinTokenRequest } from './join-token-provider.ts';
export { joinTokenId, joinTokenProof } from './join-token-secret.ts';
