import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { combineDomainKey, splitDomainKey } from './shamir-shares.ts';

describe('Shamir split of the domain key', () => {
  it('rebuilds the key from any threshold of shares, and not from fewer', async () => {
    const key = randomBytes(32);
    const shares = await splitDomainKey(key, 5, 3);
    assert.equal(shares.length, 5);
    const [a, b, c, d, e] = shares;
    assert.ok(a && b && c && d && e);
    assert.deepEqual(Buffer.from((await combineDomainKey([a, c, e], 3)) ?? []), key);
    assert.deepEqual(Buffer.from((await combineDomainKey([d, b, a, e], 3)) ?? []), key);
    assert.equal(await combineDomainKey([a, b], 3), undefined);
    assert.notDeepEqual(Buffer.from((await combineDomainKey([a, b], 2)) ?? []), key);
  });

  it('refuses two shares with the same x coordinate', async () => {
    const [a, b] = await splitDomainKey(randomBytes(32), 3, 2);
    assert.ok(a && b);
    const sameX = Uint8Array.from(b);
    sameX[32] = a[32] ?? 0;
    assert.equal(await combineDomainKey([a, sameX], 2), undefined);
  });

  it('gives every custodian a copy of the key when the threshold is 1', async () => {
    const key = randomBytes(32);
    const shares = await splitDomainKey(key, 3, 1);
    for (const share of shares) assert.deepEqual(Buffer.from(share), key);
    shares[0]?.fill(0);
    assert.deepEqual(Buffer.from(shares[1] ?? []), key, 'copies, not views of one buffer');
    assert.deepEqual(Buffer.from((await combineDomainKey([shares[2] ?? new Uint8Array()], 1)) ?? []), key);
  });

  it('accepts Buffers, which the library alone would refuse', async () => {
    const key = randomBytes(32);
    const shares = (await splitDomainKey(key, 2, 2)).map((share) => Buffer.from(share));
    assert.deepEqual(Buffer.from((await combineDomainKey(shares, 2)) ?? []), key);
  });
});
