// The TypeScript SDK: public surface only.
export { CofferClient, DEFAULT_TIMEOUT_MS, type CofferClientOptions } from './coffer-client.ts';
export { CofferApiError } from './client-errors.ts';
export { parseKeyRef } from './key-api.ts';
export type { BytesLike } from './bytes.ts';
export type { PemSource } from './credentials.ts';
export type * from './api-types.ts';
export type * from './crypto-types.ts';
export type { AuthApi, PrincipalApi, ProjectApi } from './identity-api.ts';
export type { CryptoApi } from './crypto-api.ts';
export type { DomainApi } from './domain-api.ts';
export type { KeyApi } from './key-api.ts';
export type { QuorumApi } from './quorum-api.ts';
