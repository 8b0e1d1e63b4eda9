// Shared pieces of the Store conformance suite: how a case gets a fresh store, and small builders.
import assert from 'node:assert/strict';
import type { ErrorCode } from '../core/errors.ts';
import type { Store, StoreWrite } from './store.ts';

/** What a backend hands the suite for one case: a fresh, empty store and how to dispose of it. */
export interface StoreHarness {
  readonly store: Store;
  cleanup(): Promise<void>;
}

export type OpenStore = () => Promise<StoreHarness>;

/** Runs one case on a fresh store and always cleans up, even when the case fails. */
export type UseStore = (work: (store: Store) => Promise<void>) => Promise<void>;

export function useStoreWith(open: OpenStore): UseStore {
  return async (work) => {
    const harness = await open();
    try {
      await work(harness.store);
    } finally {
      await harness.cleanup();
    }
  };
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function put(key: string, value: string | Uint8Array, expectVersion?: number): StoreWrite {
  const data = typeof value === 'string' ? bytes(value) : value;
  return expectVersion === undefined ? { op: 'put', key, value: data } : { op: 'put', key, value: data, expectVersion };
}

export function del(key: string, expectVersion?: number): StoreWrite {
  return expectVersion === undefined ? { op: 'delete', key } : { op: 'delete', key, expectVersion };
}

/** Asserts that `promise` rejects with a CofferError-shaped error carrying `code`; `what` names the case. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, what?: string): Promise<void> {
  const label = what === undefined ? code : `${what}: ${code}`;
  await assert.rejects(
    promise,
    (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, code, label);
      return true;
    },
    label,
  );
}

/** The live value of `key` as text, or undefined. */
export async function textOf(store: Store, key: string): Promise<string | undefined> {
  const entry = await store.get(key);
  return entry === undefined ? undefined : new TextDecoder().decode(entry.value);
}

export async function keysOf(store: Store, prefix: string, options?: { after?: string; limit?: number }): Promise<string[]> {
  return (await store.list(prefix, options)).map((entry) => entry.key);
}
