import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { kwpUnwrap, kwpWrap } from './aes-kwp.ts';
import { rsaAesKeyUnwrap, rsaAesKeyWrap } from './rsa-aes-key-wrap.ts';
import { oaepDecrypt, oaepEncrypt } from './rsa-oaep.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const material = randomBytes(100);

describe('CKM_RSA_AES_KEY_WRAP', () => {
  it('is RSA-OAEP(SHA-256) of a fresh 256-bit key, then AES-KWP of the material under it', () => {
    const wrapped = rsaAesKeyWrap(publicKey, 'sha256', material);
    assert.equal(wrapped.length, 256 + 112);
    const ephemeral = oaepDecrypt(privateKey, 'sha256', wrapped.subarray(0, 256)) ?? assert.fail();
    assert.equal(ephemeral.length, 32);
    assert.deepEqual(kwpUnwrap(ephemeral, wrapped.subarray(256)), material);
    assert.deepEqual(rsaAesKeyUnwrap(privateKey, 'sha256', 256, wrapped), material);
    assert.notDeepEqual(rsaAesKeyWrap(publicKey, 'sha256', material).subarray(256), wrapped.subarray(256), 'a fresh key each time');
  });

  it('answers undefined when either part fails, or the inner key is not AES-256', () => {
    const wrapped = rsaAesKeyWrap(publicKey, 'sha256', material);
    for (const index of [0, 255, 256, wrapped.length - 1]) {
      const bad = Buffer.from(wrapped);
      bad[index] = (bad[index] ?? 0) ^ 1;
      assert.equal(rsaAesKeyUnwrap(privateKey, 'sha256', 256, bad), undefined, `byte ${index}`);
    }
    assert.equal(rsaAesKeyUnwrap(privateKey, 'sha384', 256, wrapped), undefined, 'other OAEP hash');
    assert.equal(rsaAesKeyUnwrap(privateKey, 'sha256', 256, wrapped.subarray(0, 271)), undefined);
    const aes128 = randomBytes(16);
    const smaller = Buffer.concat([oaepEncrypt(publicKey, 'sha256', aes128), kwpWrap(aes128, material)]);
    assert.equal(rsaAesKeyUnwrap(privateKey, 'sha256', 256, smaller), undefined);
  });
});
