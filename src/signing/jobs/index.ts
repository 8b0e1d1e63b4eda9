// Signing jobs: records, their store, the artifact store and the pipeline; only re-exports.
export { ArtifactStore, type ArtifactStoreOptions, type StoredArtifact } from './artifact-store.ts';
export { ANSWER_WINDOW_MS, JobPipeline, type ApprovalProgress, type JobPipelineOptions } from './job-pipeline.ts';
export { isJobId, JOB_STATES, TRANSITIONS } from './job-record.ts';
export type { JobArtifact, JobFailure, JobPatch, JobResult, JobState, JobSubmission, SigningJob } from './job-record.ts';
export { DEFAULT_LIST_LIMIT, JobStore, MAX_LIST_LIMIT, type JobStoreOptions, type ListJobsOptions } from './job-store.ts';
export type { DigestSubmission, FileSubmission } from './job-submission.ts';
