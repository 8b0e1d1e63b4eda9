// Who an upload belongs to and what it is for: the signer's record beside UploadStore's bytes.
// An upload is its submitter's alone, for one project and profile, until a job takes it.
import { CofferError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { checkMetadata, isUploadId } from '../uploads/upload-record.ts';

const PREFIX = 'signing/upload/';
const MAX_FILE_NAME_LENGTH = 255;

export interface SignerUpload {
  readonly uploadId: string;
  readonly project: string;
  readonly profile: string;
  readonly submitter: string;
  readonly size: number;
  readonly fileName?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly expiresAt: string;
}

export interface NewUpload extends Omit<SignerUpload, 'fileName' | 'metadata'> {
  readonly fileName?: unknown;
  readonly metadata?: unknown;
}

function checkFileName(fileName: unknown): string {
  if (typeof fileName !== 'string' || fileName.length === 0 || fileName.length > MAX_FILE_NAME_LENGTH || /[\u0000-\u001f\u007f/\\]/.test(fileName)) {
    throw new CofferError('INVALID_ARGUMENT', `fileName must be 1 to ${MAX_FILE_NAME_LENGTH} characters, without control characters or slashes`);
  }
  return fileName;
}

export class UploadRecords {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Checks the builder's labels (INPUT_TOO_LARGE for oversized metadata) and stores the record. */
  async create(input: NewUpload): Promise<SignerUpload> {
    const upload: SignerUpload = {
      uploadId: input.uploadId, project: input.project, profile: input.profile, submitter: input.submitter, size: input.size, expiresAt: input.expiresAt,
      ...(input.fileName === undefined ? {} : { fileName: checkFileName(input.fileName) }),
      ...(input.metadata === undefined ? {} : { metadata: checkMetadata(input.metadata) }),
    };
    await this.#store.commit([{ op: 'put', key: `${PREFIX}${upload.uploadId}`, value: new TextEncoder().encode(JSON.stringify(upload)), expectVersion: 0 }]);
    return upload;
  }

  async get(uploadId: string): Promise<SignerUpload | undefined> {
    if (!isUploadId(uploadId)) return undefined;
    const entry = await this.#store.get(`${PREFIX}${uploadId}`);
    if (entry === undefined) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(entry.value)) as SignerUpload;
    } catch (error) {
      throw new CofferError('STORE_CORRUPT', `the record of upload ${uploadId} is not JSON`, { cause: error });
    }
  }

  async remove(uploadId: string): Promise<void> {
    if (!isUploadId(uploadId)) return;
    await this.#store.commit([{ op: 'delete', key: `${PREFIX}${uploadId}` }]);
  }

  /** Drops records of uploads past their expiry (UploadStore sweeps their bytes); returns how many. */
  async sweep(now: Date): Promise<number> {
    let removed = 0;
    for (const entry of await this.#store.list(PREFIX)) {
      const upload = JSON.parse(new TextDecoder().decode(entry.value)) as SignerUpload;
      if (Date.parse(upload.expiresAt) <= now.getTime()) {
        await this.#store.commit([{ op: 'delete', key: entry.key, expectVersion: entry.version }]);
        removed++;
      }
    }
    return removed;
  }
}
