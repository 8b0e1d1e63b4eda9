// Signing profiles: public surface only.
export { MAX_APPROVERS, MAX_RETENTION_DAYS, parseProfile, TIME_STAMPED_FORMATS } from './profile.ts';
export type { ProfileApproval, SigningProfile } from './profile.ts';
