// KeyRepository over any Store, with every record encrypted by the barrier and bound to its path
// and version, so the store holds only ciphertext plus paths made of ids and names.
import { CofferError } from '../../core/errors.ts';
import type { KeyRecord, StoredKey } from '../../core/key-record.ts';
import type { KeyRepository } from '../../core/ports.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store, StoreEntry } from '../store.ts';
import { decodeKeyRecord, encodeKeyRecord } from './key-record-codec.ts';

const KEY_KIND = 'key';
const NAME_KIND = 'key-name';
const KEY_PREFIX = 'key/';
const NAME_PREFIX = 'key-name/';

const keyPath = (id: string): string => `${KEY_PREFIX}${id}`;
const namePath = (project: string, name: string): string => `${NAME_PREFIX}${project}/${name}`;

export class SealedKeyRepository implements KeyRepository {
  readonly #store: Store;
  readonly #barrier: Barrier;

  constructor(store: Store, barrier: Barrier) {
    this.#store = store;
    this.#barrier = barrier;
  }

  #open(entry: StoreEntry, kind: string): Uint8Array {
    return this.#barrier.decryptRecord(kind, entry.key, entry.version, entry.value);
  }

  #decodeKey(entry: StoreEntry, expectedId?: string): StoredKey {
    const record = decodeKeyRecord(this.#open(entry, KEY_KIND));
    // The path is authenticated as associated data; the id inside must agree with it.
    if (entry.key !== keyPath(record.id) || (expectedId !== undefined && record.id !== expectedId)) {
      throw new CofferError('BARRIER_INTEGRITY_FAILED', 'a stored record failed authentication');
    }
    return { record, revision: entry.version };
  }

  async get(id: string): Promise<StoredKey | undefined> {
    const entry = await this.#store.get(keyPath(id));
    return entry === undefined ? undefined : this.#decodeKey(entry, id);
  }

  async #idFromName(entry: StoreEntry): Promise<StoredKey | undefined> {
    const parsed: unknown = JSON.parse(Buffer.from(this.#open(entry, NAME_KIND)).toString('utf8'));
    const id = typeof parsed === 'object' && parsed !== null && 'id' in parsed && typeof parsed.id === 'string' ? parsed.id : undefined;
    if (id === undefined) throw new CofferError('STORE_CORRUPT', 'a stored name index entry is malformed');
    const stored = await this.get(id);
    if (stored !== undefined && namePath(stored.record.project, stored.record.name) !== entry.key) {
      throw new CofferError('BARRIER_INTEGRITY_FAILED', 'a stored record failed authentication');
    }
    return stored;
  }

  async getByName(project: string, name: string): Promise<StoredKey | undefined> {
    const entry = await this.#store.get(namePath(project, name));
    return entry === undefined ? undefined : this.#idFromName(entry);
  }

  async create(record: KeyRecord): Promise<StoredKey> {
    const path = keyPath(record.id);
    const index = namePath(record.project, record.name);
    try {
      await this.#store.commit([
        { op: 'put', key: path, value: this.#barrier.encryptRecord(KEY_KIND, path, 1, encodeKeyRecord(record)), expectVersion: 0 },
        { op: 'put', key: index, value: this.#barrier.encryptRecord(NAME_KIND, index, 1, Buffer.from(JSON.stringify({ id: record.id }))), expectVersion: 0 },
      ]);
    } catch (error) {
      if (error instanceof CofferError && error.code === 'STORE_CONFLICT') {
        throw new CofferError('KEY_ALREADY_EXISTS', `a key named ${record.name} already exists in project ${record.project}`);
      }
      throw error;
    }
    this.#barrier.noteCommitted(KEY_KIND, path, 1);
    this.#barrier.noteCommitted(NAME_KIND, index, 1);
    return { record, revision: 1 };
  }

  async update(record: KeyRecord, expectedRevision: number): Promise<StoredKey> {
    const path = keyPath(record.id);
    const version = expectedRevision + 1;
    await this.#store.commit([
      { op: 'put', key: path, value: this.#barrier.encryptRecord(KEY_KIND, path, version, encodeKeyRecord(record)), expectVersion: expectedRevision },
    ]);
    this.#barrier.noteCommitted(KEY_KIND, path, version);
    return { record, revision: version };
  }

  async list(project: string, options: { after?: string; limit?: number } = {}): Promise<StoredKey[]> {
    const prefix = `${NAME_PREFIX}${project}/`;
    const entries = await this.#store.list(prefix, {
      ...(options.after === undefined ? {} : { after: `${prefix}${options.after}` }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    const keys: StoredKey[] = [];
    for (const entry of entries) {
      const stored = await this.#idFromName(entry);
      if (stored !== undefined) keys.push(stored);
    }
    return keys;
  }

  async scan(options: { after?: string; limit?: number } = {}): Promise<StoredKey[]> {
    const entries = await this.#store.list(KEY_PREFIX, {
      ...(options.after === undefined ? {} : { after: keyPath(options.after) }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    return entries.map((entry) => this.#decodeKey(entry));
  }
}
