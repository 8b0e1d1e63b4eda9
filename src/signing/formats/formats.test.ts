// The format table: every format is reachable by its own name, and an unknown name is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../../core/errors.ts';
import { FORMAT_NAMES, formatSigner } from './index.ts';

describe('format table', () => {
  it('resolves each format by name and refuses others', () => {
    assert.deepEqual([...FORMAT_NAMES].sort(), ['authenticode', 'cms', 'jar', 'jws', 'openpgp', 'raw']);
    for (const name of FORMAT_NAMES) assert.equal(formatSigner(name).format, name);
    assert.throws(() => formatSigner('appx'), (error: unknown) => error instanceof CofferError && error.code === 'UNSUPPORTED_ALGORITHM');
  });
});
