import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { checkFieldString, lengthPrefixed, uint64 } from './length-prefixed.ts';

describe('base64url', () => {
  it('round-trips and accepts only canonical unpadded text', () => {
    const bytes = Uint8Array.from([0xfb, 0xff, 0x01]);
    assert.equal(encodeBase64url(bytes), '-_8B');
    assert.deepEqual(decodeBase64url('-_8B', 'x'), Buffer.from(bytes));
    for (const bad of ['-_8B=', '+/8B', 'a b', 'AB', 'AB==', 7]) {
      assert.throws(() => decodeBase64url(bad, 'x'), { code: 'INVALID_ARGUMENT' }, String(bad));
    }
    assert.throws(() => decodeBase64url('-_8B', 'x', 4), { code: 'INVALID_ARGUMENT' });
    assert.equal(decodeBase64url('', 'x').length, 0);
  });
});

describe('lengthPrefixed', () => {
  it('encodes each field with a 4-byte length, so field boundaries cannot shift', () => {
    assert.deepEqual(lengthPrefixed('ab', Uint8Array.of(7)), Buffer.from([0, 0, 0, 2, 0x61, 0x62, 0, 0, 0, 1, 7]));
    assert.notDeepEqual(lengthPrefixed('ab', 'c'), lengthPrefixed('a', 'bc'));
    assert.deepEqual(uint64(2 ** 40 + 1), Buffer.from([0, 0, 1, 0, 0, 0, 0, 1]));
  });

  it('checkFieldString refuses empty, long, non-string and ill-formed values', () => {
    assert.equal(checkFieldString('ok', 'f', 2), 'ok');
    for (const bad of ['', 'abc', 3, '\udc00']) assert.throws(() => checkFieldString(bad, 'f', 2), { code: 'INVALID_ARGUMENT' });
  });
});
