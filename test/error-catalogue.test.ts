// Keeps the error catalogue honest: docs/errors.md lists exactly the codes in the code, with their
// statuses, and every code is asserted by at least one test somewhere in the suite.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CATALOGUE, ERROR_CODES, CofferError, toCofferError, isCofferError, decryptFailed } from '../src/core/errors.ts';

const root = resolve(import.meta.dirname, '..');

function* testFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* testFiles(path);
    else if (name.endsWith('.test.ts') && !path.endsWith('error-catalogue.test.ts')) yield path;
  }
}

describe('error catalogue', () => {
  it('docs/errors.md documents exactly the codes and statuses of src/core/errors.ts', () => {
    const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    assert.deepEqual(rows, ERROR_CODES.map((code) => [code, CATALOGUE[code].status]));
  });

  it('every code is asserted by at least one test', () => {
    const corpus = [...testFiles(join(root, 'src')), ...testFiles(join(root, 'test'))].map((f) => readFileSync(f, 'utf8')).join('\n');
    const unreached = ERROR_CODES.filter((code) => !new RegExp(`code:\\s*'${code}'|'${code}'`).test(corpus));
    assert.deepEqual(unreached, []);
  });

  it('maps unknown errors to a generic INTERNAL_ERROR that hides the cause message', () => {
    const wrapped = toCofferError(new Error('ENOENT /secret/path'));
    assert.equal(wrapped.code, 'INTERNAL_ERROR');
    assert.equal(wrapped.status, 500);
    assert.equal(wrapped.message, 'internal error');
    assert.equal(toCofferError(decryptFailed()).code, 'CRYPTO_DECRYPT_FAILED');
    assert.equal(decryptFailed('why').message, 'decryption failed');
    assert.ok(isCofferError(new CofferError('KEY_NOT_FOUND', 'x'), 'KEY_NOT_FOUND'));
    assert.ok(!isCofferError(new Error('x')));
  });

  it('statuses never leak a 5xx for caller mistakes', () => {
    for (const code of ERROR_CODES) {
      const status = CATALOGUE[code].status;
      assert.ok(status >= 400 && status < 600, code);
    }
  });
});
