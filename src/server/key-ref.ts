// Key references at the API edge: a key id (uuid) or `project/name`, resolved to the engine's KeyRef.
import type { KeyRef } from '../core/engine/index.ts';

/** The schema pattern (KEY_REF_PATTERN) has already admitted only these two shapes. */
export function parseKeyRef(value: string): KeyRef {
  const slash = value.indexOf('/');
  return slash < 0 ? value : { project: value.slice(0, slash), name: value.slice(slash + 1) };
}
