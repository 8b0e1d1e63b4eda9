// scrypt hashing: the encoded format, constant-time verification, the password policy, NFC, and a
// dummy verification that really costs a hash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { checkPassword, dummyVerify, hashPassword, isEncodedPasswordHash, verifyPassword } from './password-hash.ts';

const PASSWORD = 'correct horse battery';

describe('password hashing', () => {
  it('encodes scrypt$N$r$p$salt$hash with N=2^15, r=8, p=1, a 16-byte salt and a 32-byte hash', async () => {
    const encoded = await hashPassword(PASSWORD);
    const [scheme, n, r, p, salt, hash, ...rest] = encoded.split('$');
    assert.deepEqual([scheme, n, r, p, rest.length], ['scrypt', '32768', '8', '1', 0]);
    assert.equal(Buffer.from(salt ?? '', 'base64url').length, 16);
    assert.equal(Buffer.from(hash ?? '', 'base64url').length, 32);
    assert.match(`${salt ?? ''}${hash ?? ''}`, /^[A-Za-z0-9_-]+$/);
    assert.equal(encoded.includes(PASSWORD), false);
    assert.equal(isEncodedPasswordHash(encoded), true);
    // A fresh salt each time.
    assert.notEqual(await hashPassword(PASSWORD), encoded);
  });

  it('verifies the right password only', async () => {
    const encoded = await hashPassword(PASSWORD);
    assert.equal(await verifyPassword(PASSWORD, encoded), true);
    assert.equal(await verifyPassword(`${PASSWORD}!`, encoded), false);
    assert.equal(await verifyPassword('short', encoded), false);
  });

  it('normalises to NFC, so a composed and a decomposed accent are the same password', async () => {
    const composed = 'caf\u00e9-au-lait-2024';
    const decomposed = 'cafe\u0301-au-lait-2024';
    assert.equal(await verifyPassword(decomposed, await hashPassword(composed)), true);
  });

  it('refuses passwords outside 12-1024 characters or not well-formed, without echoing them', async () => {
    for (const bad of ['elevenchars', 'x'.repeat(1025), `twelve-chars\uD800`]) {
      await assert.rejects(hashPassword(bad), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'INVALID_ARGUMENT');
        assert.equal((error as Error).message.includes(bad), false);
        return true;
      });
    }
    checkPassword('twelve-chars');
    checkPassword('x'.repeat(1024));
    // Characters, not UTF-16 units: 12 emoji are 24 units and acceptable; 1024 of them too.
    checkPassword('\u{1F511}'.repeat(12));
    checkPassword('\u{1F511}'.repeat(1024));
    assert.throws(() => { checkPassword('\u{1F511}'.repeat(11)); }, { code: 'INVALID_ARGUMENT' });
  });

  it('reports a malformed stored hash as STORE_CORRUPT and refuses absurd parameters', async () => {
    const encoded = await hashPassword(PASSWORD);
    const parts = encoded.split('$');
    const withN = (n: string): string => ['scrypt', n, ...parts.slice(2)].join('$');
    for (const bad of ['', 'bcrypt$x', withN('1000'), withN(String(2 ** 21)), `${encoded}$extra`, encoded.replace(/\$[^$]+$/, '$!!')]) {
      assert.equal(isEncodedPasswordHash(bad), false, bad);
      await assert.rejects(verifyPassword(PASSWORD, bad), { code: 'STORE_CORRUPT' });
    }
  });

  it('dummyVerify returns false after spending about the time of a real verification', async () => {
    const encoded = await hashPassword(PASSWORD);
    const time = async (run: () => Promise<unknown>): Promise<number> => {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        await run();
        samples.push(performance.now() - start);
      }
      return samples.sort((a, b) => a - b)[1] ?? 0;
    };
    const real = await time(() => verifyPassword('wrong password!', encoded));
    const dummy = await time(() => dummyVerify('wrong password!'));
    assert.equal(await dummyVerify(PASSWORD), false);
    // Loose bounds on a shared machine; a dummy that skipped scrypt would be ~1000x faster.
    assert.ok(dummy > real / 3 && dummy < real * 3, `dummy ${dummy.toFixed(1)} ms vs real ${real.toFixed(1)} ms`);
  });
});
