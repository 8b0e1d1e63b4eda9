// The upload store: resumable, hashed uploads streamed to disk (see README.md for its invariants).
export { DEFAULT_MAX_BYTES, DEFAULT_TTL_MS, UploadStore } from './upload-store.ts';
export type { CompletedUpload, CreateUpload, UploadSource, UploadStatus, UploadStoreOptions } from './upload-store.ts';
export { isUploadId, MAX_METADATA_BYTES } from './upload-record.ts';
