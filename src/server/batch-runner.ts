// Runs the items of a batch with bounded concurrency. Each item succeeds or fails on its own; one
// failure never aborts the others, and results keep the order of the items.
import { toCofferError, type CofferError } from '../core/errors.ts';

export type ItemOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: CofferError };

export async function runBatch<T, R>(items: readonly T[], concurrency: number, run: (item: T, index: number) => Promise<R>): Promise<ItemOutcome<R>[]> {
  const outcomes = new Array<ItemOutcome<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        outcomes[index] = { ok: true, value: await run(items[index] as T, index) };
      } catch (error) {
        outcomes[index] = { ok: false, error: toCofferError(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return outcomes;
}
