// The CMS/PKCS#7 detached-signature format; only re-exports.
export { cmsSigner } from './cms-signer.ts';
export type { CmsOptions } from './cms-signer.ts';
