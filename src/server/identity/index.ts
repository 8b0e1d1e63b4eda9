// The identity subsystem's public surface: the principal directory and the contract it implements.
export {
  PrincipalDirectory, DEFAULT_TOKEN_TTL_SECONDS, type BootstrapOfficerInput, type PrincipalDirectoryOptions,
} from './principal-directory.ts';
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type ListOptions } from './directory-context.ts';
export type { CreateProjectInput, ProjectHasKeys } from './project-catalogue.ts';
export type { LoginContext } from './principal-authentication.ts';
export {
  callerOf, type CertificateBinding, type CreatePrincipalInput, type IssuedToken, type Principal, type PrincipalStatus, type Project,
  type UpdatePrincipalInput,
} from './identity-types.ts';
export { FINGERPRINT_PATTERN, NAME_PATTERN, PRINCIPAL_ID_PATTERN } from './identity-validation.ts';
export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-hash.ts';
export { DEFAULT_LOGIN_FAILURES_PER_MINUTE } from './login-rate-limiter.ts';
