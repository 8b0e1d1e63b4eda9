// In-memory lookups for per-request authentication (certificate → principal, id → principal),
// dropped whole on any change, with a generation check so a read that raced a change is not kept.
import type { PrincipalRecord } from './identity-records.ts';
import type { SealedIdentityStore } from './sealed-identity-store.ts';

/** Past this many principals the cache starts over: bounded memory, at worst one store read each. */
export const MAX_CACHED_PRINCIPALS = 10_000;

export class PrincipalCache {
  readonly #records: SealedIdentityStore;
  readonly #byId = new Map<string, PrincipalRecord>();
  readonly #idByFingerprint = new Map<string, string>();
  /**
   * Bumped by every invalidation. A read that started before a change may finish after the change
   * invalidated the cache; it is returned but not cached, so stale state never outlives the read.
   */
  #generation = 0;

  constructor(records: SealedIdentityStore) {
    this.#records = records;
  }

  invalidate(): void {
    this.#generation++;
    this.#byId.clear();
    this.#idByFingerprint.clear();
  }

  #remember(record: PrincipalRecord, generation: number): void {
    if (generation !== this.#generation) return;
    if (this.#byId.size >= MAX_CACHED_PRINCIPALS) this.invalidate();
    this.#byId.set(record.id, record);
  }

  async byId(id: string): Promise<PrincipalRecord | undefined> {
    const cached = this.#byId.get(id);
    if (cached !== undefined) return cached;
    const generation = this.#generation;
    const found = await this.#records.principal(id);
    if (found !== undefined) this.#remember(found.value, generation);
    return found?.value;
  }

  async byFingerprint(fingerprint: string): Promise<PrincipalRecord | undefined> {
    const id = this.#idByFingerprint.get(fingerprint);
    if (id !== undefined) {
      const cached = this.#byId.get(id);
      if (cached?.certificates.some((c) => c.fingerprint === fingerprint) === true) return cached;
    }
    const generation = this.#generation;
    const found = await this.#records.principalByFingerprint(fingerprint);
    if (found === undefined) return undefined;
    this.#remember(found.value, generation);
    if (generation === this.#generation) this.#idByFingerprint.set(fingerprint, found.value.id);
    return found.value;
  }
}
