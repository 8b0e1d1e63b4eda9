// An in-memory KeyRepository with the same compare-and-set semantics as the sealed one: the
// engine's unit tests run on it; real nodes use SealedKeyRepository over a Store.
import { CofferError } from '../errors.ts';
import type { KeyRecord, StoredKey } from '../key-record.ts';
import type { AuditEvent, AuditSink, KeyRepository } from '../ports.ts';

export class MemoryKeyRepository implements KeyRepository {
  readonly #byId = new Map<string, StoredKey>();
  readonly #byName = new Map<string, string>();

  get(id: string): Promise<StoredKey | undefined> {
    return Promise.resolve(this.#byId.get(id));
  }

  getByName(project: string, name: string): Promise<StoredKey | undefined> {
    const id = this.#byName.get(`${project}/${name}`);
    return Promise.resolve(id === undefined ? undefined : this.#byId.get(id));
  }

  create(record: KeyRecord): Promise<StoredKey> {
    const nameKey = `${record.project}/${record.name}`;
    if (this.#byName.has(nameKey)) return Promise.reject(new CofferError('KEY_ALREADY_EXISTS', 'name taken'));
    const stored = { record, revision: 1 };
    this.#byId.set(record.id, stored);
    this.#byName.set(nameKey, record.id);
    return Promise.resolve(stored);
  }

  update(record: KeyRecord, expectedRevision: number): Promise<StoredKey> {
    const current = this.#byId.get(record.id);
    if (current?.revision !== expectedRevision) return Promise.reject(new CofferError('STORE_CONFLICT', 'changed concurrently'));
    const stored = { record, revision: expectedRevision + 1 };
    this.#byId.set(record.id, stored);
    return Promise.resolve(stored);
  }

  list(project: string, options: { after?: string; limit?: number } = {}): Promise<StoredKey[]> {
    const keys = [...this.#byId.values()]
      .filter((k) => k.record.project === project && (options.after === undefined || k.record.name > options.after))
      .sort((a, b) => (a.record.name < b.record.name ? -1 : 1));
    return Promise.resolve(keys.slice(0, options.limit ?? keys.length));
  }

  scan(options: { after?: string; limit?: number } = {}): Promise<StoredKey[]> {
    const keys = [...this.#byId.values()]
      .filter((k) => options.after === undefined || k.record.id > options.after)
      .sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
    return Promise.resolve(keys.slice(0, options.limit ?? keys.length));
  }
}

/** Collects audit events in memory; `failing` makes every append reject, to test fail-closed paths. */
export class MemoryAuditSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  failing = false;

  append(event: AuditEvent): Promise<void> {
    if (this.failing) return Promise.reject(new Error('disk full'));
    this.events.push(event);
    return Promise.resolve();
  }
}
