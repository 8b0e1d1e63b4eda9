// The VSSM-compatible API (/REST/v1/...): only re-exports.
export { vssmRoutes } from './vssm-routes.ts';
