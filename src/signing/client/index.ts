// The signing service's SDK: public surface only.
export {
  DEFAULT_SIGNER_TIMEOUT_MS, DEFAULT_UPLOAD_RETRIES, isResumable, MAX_WAIT_SECONDS, SignerClient,
  type AppendOptions, type CreateProjectRequest, type CreateUploadRequest, type ListJobsQuery, type SignedOutput, type SignerClientOptions,
  type SignFileOptions, type StatsQuery, type SubmitJobRequest, type UploadFileOptions,
} from './signer-client.ts';
export type {
  JobView, MemberRole, MemberView, ProfileView, SigningProjectView, StatsDimension, StatsRow, StatsView, TelemetryEvent, UploadView, WhoAmI,
} from '../service/signer-api.ts';
export { MEMBER_ROLES, SIGNING_API_PREFIX, STATS_DIMENSIONS } from '../service/signer-api.ts';
export { JOB_STATES } from '../jobs/job-record.ts';
export type { JobState } from '../jobs/job-record.ts';
export type { PkiHash } from '../../pki/pki-signer.ts';
