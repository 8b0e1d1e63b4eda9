// Walking a paged listing: the node returns `next` while more may follow (a page can be short, even
// empty, and still have a successor), so the walk ends only when `next` is absent.
import type { Page } from './api-types.ts';

export async function* paginate<T>(fetchPage: (after: string | undefined) => Promise<Page<T>>, after?: string): AsyncGenerator<T, void, undefined> {
  let cursor = after;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (page.next === undefined || page.next === cursor) return;
    cursor = page.next;
  }
}

/** Reads `{ [key]: T[], next? }` as a Page. */
export function pageOf<T>(answer: unknown, key: string): Page<T> {
  const fields = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  const items = fields[key];
  const next = fields['next'];
  return { items: Array.isArray(items) ? (items as T[]) : [], ...(typeof next === 'string' ? { next } : {}) };
}
