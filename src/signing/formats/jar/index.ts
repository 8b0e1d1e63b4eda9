// The JAR embedded-signature format; only re-exports.
export { DEFAULT_JAR_ALIAS, jarSigner } from './jar-signer.ts';
export type { JarOptions } from './jar-signer.ts';
