import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { XaesKey } from './xaes-256-gcm.ts';

// Known-answer vectors from C2SP.org/XAES-256-GCM.
describe('XAES-256-GCM', () => {
  it('matches the first C2SP vector', () => {
    const key = new XaesKey(Buffer.alloc(32, 0x01));
    const sealed = key.seal(Buffer.from('XAES-256-GCM'), undefined, Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWX'));
    assert.equal(sealed.subarray(24).toString('hex'), 'ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271');
  });

  it('matches the second C2SP vector (with associated data)', () => {
    const key = new XaesKey(Buffer.alloc(32, 0x03));
    const aad = Buffer.from('c2sp.org/XAES-256-GCM');
    const sealed = key.seal(Buffer.from('XAES-256-GCM'), aad, Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWX'));
    assert.equal(sealed.subarray(24).toString('hex'), '986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d');
    assert.equal(key.open(sealed, aad)?.toString(), 'XAES-256-GCM');
  });

  it('round-trips and rejects tampering, wrong associated data and short input', () => {
    const key = new XaesKey(createHash('sha256').update('k').digest());
    const aad = Buffer.from('context');
    const sealed = key.seal(Buffer.from('secret'), aad);
    assert.equal(key.open(sealed, aad)?.toString(), 'secret');
    assert.equal(key.open(sealed, Buffer.from('other')), undefined);
    for (const index of [0, 23, 24, sealed.length - 1]) {
      const copy = Buffer.from(sealed);
      copy[index] = (copy[index] ?? 0) ^ 1;
      assert.equal(key.open(copy, aad), undefined, `flipped byte ${index}`);
    }
    assert.equal(key.open(sealed.subarray(0, 39), aad), undefined);
    assert.notDeepEqual(key.seal(Buffer.from('secret'), aad), sealed, 'nonces differ');
  });
});
