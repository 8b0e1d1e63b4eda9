// Cross-checks ML-DSA with WebCrypto (node's separate crypto.subtle code path) in both directions;
// the system openssl 3.0 predates ML-DSA.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import type { KeySpec } from '../key-record.ts';
import { generateKeyMaterial, importKeyMaterial } from './key-material.ts';
import { prepareKey, preparePublicKey, publicKeySpki } from './prepared-key.ts';
import { sign, verify } from './signing.ts';

const { subtle } = webcrypto;
const SETS: readonly [KeySpec, string][] = [['ML_DSA_44', 'ML-DSA-44'], ['ML_DSA_65', 'ML-DSA-65'], ['ML_DSA_87', 'ML-DSA-87']];
const message = Buffer.from('post-quantum, cross-checked');

async function generatePair(name: string): Promise<webcrypto.CryptoKeyPair> {
  // The typings know ML-DSA only as a generic algorithm, so narrow the result by hand.
  const pair: unknown = await subtle.generateKey({ name }, true, ['sign', 'verify']);
  assert.ok(typeof pair === 'object' && pair !== null && 'privateKey' in pair && 'publicKey' in pair);
  return pair as webcrypto.CryptoKeyPair;
}

describe('ML-DSA cross-checked with WebCrypto', () => {
  for (const [spec, name] of SETS) {
    it(`${spec}: WebCrypto verifies Coffer's signatures and refuses tampered ones`, async () => {
      const { material, publicKey } = generateKeyMaterial(spec);
      const signature = sign(prepareKey(spec, material), 'ML_DSA', { type: 'MESSAGE', message });
      const verifier = await subtle.importKey('spki', publicKey ?? assert.fail(), { name }, false, ['verify']);
      assert.ok(await subtle.verify({ name }, verifier, signature, message));
      const tampered = Buffer.from(signature);
      tampered[10] = (tampered[10] ?? 0) ^ 1;
      assert.equal(await subtle.verify({ name }, verifier, tampered, message), false);
    });

    it(`${spec}: Coffer verifies WebCrypto's signatures, with keys WebCrypto made`, async () => {
      const pair = await generatePair(name);
      const signature = Buffer.from(await subtle.sign({ name }, pair.privateKey, message));
      const spki = Buffer.from(await subtle.exportKey('spki', pair.publicKey));
      const verifier = preparePublicKey(spec, spki);
      assert.ok(verify(verifier, 'ML_DSA', { type: 'MESSAGE', message }, signature));
      assert.equal(verify(verifier, 'ML_DSA', { type: 'MESSAGE', message: Buffer.from('other') }, signature), false);
      // WebCrypto exports the seed-only PKCS#8; importing it yields the same public key and a working signer.
      const imported = importKeyMaterial(spec, Buffer.from(await subtle.exportKey('pkcs8', pair.privateKey)));
      assert.deepEqual(imported.publicKey, spki);
      const ours = sign(prepareKey(spec, imported.material), 'ML_DSA', { type: 'MESSAGE', message });
      assert.ok(await subtle.verify({ name }, pair.publicKey, ours, message));
    });

    it(`${spec}: WebCrypto signs with Coffer's key material and Coffer verifies`, async () => {
      const { material } = generateKeyMaterial(spec);
      const key = prepareKey(spec, material);
      const signer = await subtle.importKey('pkcs8', material, { name }, false, ['sign']);
      const signature = Buffer.from(await subtle.sign({ name }, signer, message));
      assert.ok(verify(key, 'ML_DSA', { type: 'MESSAGE', message }, signature));
      assert.ok(verify(preparePublicKey(spec, publicKeySpki(key)), 'ML_DSA', { type: 'MESSAGE', message }, signature));
    });
  }

  it('refuses a signature made under another parameter set', async () => {
    const pair = await generatePair('ML-DSA-44');
    const spki = Buffer.from(await subtle.exportKey('spki', pair.publicKey));
    assert.throws(() => preparePublicKey('ML_DSA_65', spki), { code: 'INVALID_KEY_MATERIAL' });
  });
});
