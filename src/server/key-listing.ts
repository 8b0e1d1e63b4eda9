// Listing keys for the API: one project (the caller's default when none is named), optional state
// and spec filters, and a cursor. The engine pages by name and audits each page it serves.
import { CofferError } from '../core/errors.ts';
import type { Caller, KeyEngine, KeyMetadata } from '../core/engine/index.ts';
import type { KeySpec, KeyState } from '../core/key-record.ts';
import type { Principal } from './identity/identity-types.ts';

export interface KeyListQuery {
  readonly project?: string;
  readonly state?: KeyState;
  readonly spec?: KeySpec;
  /** The `next` cursor of the previous page: the last key name it scanned. */
  readonly after?: string;
  readonly limit: number;
}

export interface KeyPage {
  readonly keys: readonly KeyMetadata[];
  /** Present when more keys may follow; pass it back as `after`. */
  readonly next?: string;
}

/** The engine's largest page. */
const ENGINE_PAGE = 1000;
/** Filtered listing stops after this many keys scanned and hands back a cursor, bounding one request. */
const MAX_SCANNED = 10_000;

export function defaultProjectOf(principal: Principal, requested: string | undefined): string {
  const project = requested ?? principal.defaultProject ?? principal.projects[0];
  if (project === undefined) throw new CofferError('INVALID_ARGUMENT', 'name a project: the caller belongs to none');
  return project;
}

export async function listKeys(engine: KeyEngine, caller: Caller, project: string, query: KeyListQuery): Promise<KeyPage> {
  const filtered = query.state !== undefined || query.spec !== undefined;
  const pageSize = filtered ? ENGINE_PAGE : query.limit;
  const keys: KeyMetadata[] = [];
  let cursor = query.after;
  let scanned = 0;
  for (;;) {
    const page = await engine.keys.list(caller, project, { limit: pageSize, ...(cursor === undefined ? {} : { after: cursor }) });
    for (const key of page) {
      cursor = key.name;
      scanned += 1;
      if ((query.state === undefined || key.state === query.state) && (query.spec === undefined || key.spec === query.spec)) keys.push(key);
      if (keys.length === query.limit) return { keys, next: key.name };
    }
    if (page.length < pageSize) return { keys };
    if (scanned >= MAX_SCANNED && cursor !== undefined) return { keys, next: cursor };
  }
}
