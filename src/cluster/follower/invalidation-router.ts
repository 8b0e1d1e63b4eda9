// Turns store changes into cache invalidations: a key record drops that key from the engine's cache,
// an identity record drops the principal caches, and every barrier record's rollback memory is set to
// the version the feed reports (so a record re-created elsewhere at a lower version stays readable).
import type { StoreChange } from '../../store/index.ts';
import { JOIN_REQUEST_PREFIX } from '../join/index.ts';

/** Barrier record kinds by store path, for rollback memory. Keep in step with every `encryptRecord` caller. */
export const RECORD_KINDS: readonly { readonly prefix: string; readonly kind: string; readonly exact?: boolean }[] = [
  { prefix: 'key/', kind: 'key' },
  { prefix: 'key-name/', kind: 'key-name' },
  { prefix: 'principal/', kind: 'principal' },
  { prefix: 'principal-name/', kind: 'principal-name' },
  { prefix: 'principal-cert/', kind: 'principal-cert' },
  { prefix: 'project/', kind: 'project' },
  { prefix: 'identity/officer-roster', kind: 'officer-roster', exact: true },
  { prefix: 'quorum/approval-key/', kind: 'approval-key' },
  { prefix: 'quorum/policy', kind: 'quorum-policy', exact: true },
  { prefix: 'quorum/token/', kind: 'approval-token' },
  { prefix: 'key-use/request/', kind: 'key-use-request' },
  { prefix: 'key-use/approver/', kind: 'approver-keys' },
  { prefix: 'import-token/', kind: 'import-token' },
  { prefix: 'pki/', kind: 'pki' },
  { prefix: 'cluster/ec2-instance/', kind: 'cluster.ec2-instance' },
  { prefix: 'cluster/join-token/', kind: 'cluster.join-token' },
];

const IDENTITY_PREFIXES = ['principal/', 'principal-name/', 'principal-cert/', 'project/', 'identity/'];
const KEY_PREFIX = 'key/';

export function recordKindOf(path: string): string | undefined {
  for (const { prefix, kind, exact } of RECORD_KINDS) {
    if (exact === true ? path === prefix : path.startsWith(prefix) && path.length > prefix.length) return kind;
  }
  return undefined;
}

/** What the follower acts on; each is optional so a node wires only what it has. */
export interface InvalidationTargets {
  /** The engine's cache of one key (KeyEngine.invalidate). */
  readonly invalidateKey?: (keyId: string) => void;
  /** The principal directory's authentication caches (PrincipalDirectory.invalidateCaches). */
  readonly invalidateIdentity?: () => void;
  /** The barrier's rollback memory (Barrier.forget / noteCommitted). */
  readonly versions?: {
    forget(kind: string, id: string): void;
    noteCommitted(kind: string, id: string, version: number): void;
  };
  /**
   * A join request was written (created or answered) under `cluster/join/`: wakes this node's
   * admitter (Admitter.wake), once per page, so a joiner is answered without waiting for its poll.
   */
  readonly joinRequested?: () => void;
  /** Every change, after the above (other services' hooks). */
  readonly other?: (change: StoreChange) => void;
}

/**
 * The dispatcher for a ChangeFollower. Rollback memory: a deleted record is forgotten (it may be
 * re-created from version 1), and a live one is set to exactly the version the feed reports — raised
 * when another node committed past what this node remembers, lowered only when the record was
 * deleted and re-created elsewhere (the feed shows a key's latest state, so a delete followed by a
 * re-create between two polls arrives as a lower version, without a tombstone).
 */
export function invalidationDispatcher(targets: InvalidationTargets): (changes: readonly StoreChange[]) => void {
  return (changes) => {
    let identity = false;
    let joinRequest = false;
    for (const change of changes) {
      const path = change.key;
      // A deletion is a joiner collecting its answer or an admitter's clean-up: nothing to answer.
      if (!change.deleted && path.startsWith(JOIN_REQUEST_PREFIX)) joinRequest = true;
      if (path.startsWith(KEY_PREFIX) && path.length > KEY_PREFIX.length) targets.invalidateKey?.(path.slice(KEY_PREFIX.length));
      if (IDENTITY_PREFIXES.some((prefix) => path.startsWith(prefix))) identity = true;
      const kind = recordKindOf(path);
      if (kind !== undefined && targets.versions !== undefined) {
        targets.versions.forget(kind, path);
        if (!change.deleted && change.version > 0) targets.versions.noteCommitted(kind, path, change.version);
      }
      targets.other?.(change);
    }
    if (identity) targets.invalidateIdentity?.();
    if (joinRequest) targets.joinRequested?.();
  };
}
