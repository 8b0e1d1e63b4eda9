// The Store conformance suite: the cases every backend must pass, registered as node:test cases.
import { describe } from 'node:test';
import type { Store } from './store.ts';
import { useStoreWith } from './conformance-helpers.ts';
import { registerConcurrencyCases } from './conformance-concurrency.ts';
import { registerChangeCases, registerListCases } from './conformance-reads.ts';
import { registerCloseCases, registerValidationCases } from './conformance-validation.ts';
import { registerWriteCases } from './conformance-writes.ts';

export type { StoreHarness } from './conformance-helpers.ts';

/**
 * Registers the suite under `name`. `open` is called once per case and must return a fresh, empty
 * store; `cleanup` runs after the case, also when it failed or already closed the store.
 */
export function runStoreConformance(name: string, open: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  const use = useStoreWith(open);
  void describe(`Store conformance: ${name}`, () => {
    void describe('writes', () => {
      registerWriteCases(use);
    });
    void describe('concurrency', () => {
      registerConcurrencyCases(use);
    });
    void describe('list', () => {
      registerListCases(use);
    });
    void describe('changes', () => {
      registerChangeCases(use);
    });
    void describe('validation', () => {
      registerValidationCases(use);
    });
    void describe('close', () => {
      registerCloseCases(use);
    });
  });
}
