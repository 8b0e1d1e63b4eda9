// RECORD_KINDS must name every barrier record kind: backups re-encrypt a restored record at its new
// version only for kinds it knows (an unknown one restores unreadable), and followers keep rollback
// memory only for them. This reads the kinds the source declares, so a new one without a row fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RECORD_KINDS } from './invalidation-router.ts';

const SRC = resolve(import.meta.dirname, '..', '..');
/** Node-local records, never backed up (EXCLUDED_PREFIXES) nor followed. */
const NODE_LOCAL = new Set(['idempotency']);

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) yield path;
  }
}

describe('RECORD_KINDS', () => {
  it('lists every sealed record kind declared in src/', () => {
    const declared = new Set<string>();
    for (const file of sources(SRC)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/^const [A-Z_]*KIND = '([^']+)';$/gm)) declared.add(match[1] ?? '');
    }
    assert.ok(declared.has('pki') && declared.has('key'), `the scan found the kinds: ${[...declared].join(', ')}`);
    const listed = new Set(RECORD_KINDS.map((row) => row.kind));
    assert.deepEqual([...declared].filter((kind) => !listed.has(kind) && !NODE_LOCAL.has(kind)).sort(), []);
  });
});
