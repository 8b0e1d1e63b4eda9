// The signing service as a process: configuration, start, the service and its HTTP API; only re-exports.
export { loadSignerConfig, parseSignerConfig, SIGNER_DEFAULTS, type SignerConfig } from './signer-config.ts';
export { startSigner, type RunningSigner, type StartSignerOptions } from './start-signer.ts';
export { SigningService, jobView, type SignerCaller, type SigningServiceOptions } from './signing-service.ts';
export { createSignerApp, type SignerAppOptions } from './signer-app.ts';
export { SignerAuthenticator, type TokenResolver } from './signer-authentication.ts';
export * from './signer-api.ts';
