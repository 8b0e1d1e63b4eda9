// Signing profiles: public surface only.
export { MAX_APPROVERS, MAX_RETENTION_DAYS, parseProfile } from './profile.ts';
export type { ProfileApproval, SigningProfile } from './profile.ts';
