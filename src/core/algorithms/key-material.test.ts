import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { KeySpec } from '../key-record.ts';
import { generateKeyMaterial, generateKeyMaterialAsync, importKeyMaterial } from './key-material.ts';

const der = (key: KeyObject): Buffer => key.export({ type: 'pkcs8', format: 'der' });
const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });

/** Specs whose generation is quick enough to run here; RSA-3072/4096 are covered in round-trip.test.ts. */
const QUICK_ASYMMETRIC: readonly { spec: KeySpec; type: string; detail?: Record<string, unknown> }[] = [
  { spec: 'RSA_2048', type: 'rsa', detail: { modulusLength: 2048, publicExponent: 65537n } },
  { spec: 'EC_P256', type: 'ec', detail: { namedCurve: 'prime256v1' } },
  { spec: 'EC_P384', type: 'ec', detail: { namedCurve: 'secp384r1' } },
  { spec: 'EC_P521', type: 'ec', detail: { namedCurve: 'secp521r1' } },
  { spec: 'EC_SECP256K1', type: 'ec', detail: { namedCurve: 'secp256k1' } },
  { spec: 'ED25519', type: 'ed25519' },
  { spec: 'ML_DSA_44', type: 'ml-dsa-44' },
  { spec: 'ML_DSA_65', type: 'ml-dsa-65' },
  { spec: 'ML_DSA_87', type: 'ml-dsa-87' },
];

describe('generateKeyMaterial', () => {
  it('makes raw random symmetric keys of the hash or key length', () => {
    const lengths: Partial<Record<KeySpec, number>> = { AES_256: 32, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64 };
    for (const [spec, length] of Object.entries(lengths) as [KeySpec, number][]) {
      const a = generateKeyMaterial(spec);
      const b = generateKeyMaterial(spec);
      assert.equal(a.material.length, length, spec);
      assert.equal(a.publicKey, undefined, spec);
      assert.notDeepEqual(a.material, b.material, spec);
    }
  });

  it('makes PKCS#8 and SPKI DER of the right type, size and curve', () => {
    for (const { spec, type, detail } of QUICK_ASYMMETRIC) {
      const { material, publicKey } = generateKeyMaterial(spec);
      const key = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
      assert.equal(key.asymmetricKeyType, type, spec);
      for (const [name, value] of Object.entries(detail ?? {})) assert.equal((key.asymmetricKeyDetails as Record<string, unknown>)[name], value, `${spec} ${name}`);
      assert.ok(publicKey !== undefined);
      assert.deepEqual(spki(createPublicKey(key)), publicKey, spec);
    }
  });

  it('has an asynchronous form that makes the same kinds of keys', async () => {
    const { material, publicKey } = await generateKeyMaterialAsync('EC_P384');
    assert.equal(createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.ok(publicKey !== undefined);
    assert.equal((await generateKeyMaterialAsync('HMAC_512')).material.length, 64);
    assert.equal(createPrivateKey({ key: (await generateKeyMaterialAsync('ML_DSA_44')).material, format: 'der', type: 'pkcs8' }).asymmetricKeyType, 'ml-dsa-44');
  });
});

describe('importKeyMaterial', () => {
  it('accepts symmetric keys within the spec ranges and refuses others', () => {
    const ranges: readonly [KeySpec, number[], number[]][] = [
      ['AES_256', [32], [0, 16, 24, 31, 33, 64]],
      ['HMAC_256', [32, 33, 64], [0, 20, 31, 65]],
      ['HMAC_384', [48, 100, 128], [32, 47, 129]],
      ['HMAC_512', [64, 128], [32, 63, 129]],
    ];
    for (const [spec, good, bad] of ranges) {
      for (const length of good) assert.equal(importKeyMaterial(spec, Buffer.alloc(length, 1)).material.length, length, `${spec} ${length}`);
      for (const length of bad) assert.throws(() => importKeyMaterial(spec, Buffer.alloc(length, 1)), { code: 'INVALID_KEY_MATERIAL' }, `${spec} ${length}`);
    }
  });

  it('returns a copy, not the caller buffer', () => {
    const input = Buffer.alloc(32, 7);
    const { material } = importKeyMaterial('AES_256', input);
    input.fill(0);
    assert.deepEqual(material, Buffer.alloc(32, 7));
  });

  it('accepts generated keys of every family and returns them unchanged with their public key', () => {
    for (const { spec } of QUICK_ASYMMETRIC) {
      const generated = generateKeyMaterial(spec);
      const imported = importKeyMaterial(spec, generated.material);
      assert.deepEqual(imported.material, generated.material, spec);
      assert.deepEqual(imported.publicKey, generated.publicKey, spec);
    }
  });

  it('normalises other valid encodings to canonical PKCS#8', () => {
    // RFC 8410 §7 OneAsymmetricKey v2 with the public key attached, from the RFC 8032 §7.1 test 1 key.
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const publicKey = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
    const v2 = Buffer.concat([Buffer.from('3051020101300506032b657004220420', 'hex'), seed, Buffer.from('812100', 'hex'), publicKey]);
    const imported = importKeyMaterial('ED25519', v2);
    assert.deepEqual(imported.material, Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]));
    assert.deepEqual(imported.publicKey?.subarray(-32), publicKey);
    // ML-DSA seed-only PKCS#8 (the form WebCrypto exports) becomes OpenSSL's seed-and-expanded form.
    const seedOnly = Buffer.concat([Buffer.from('3034020100300b060960864801650304031104228020', 'hex'), Buffer.alloc(32, 9)]);
    const mlDsa = importKeyMaterial('ML_DSA_44', seedOnly);
    assert.ok(mlDsa.material.length > 2000);
    assert.deepEqual(importKeyMaterial('ML_DSA_44', mlDsa.material).publicKey, mlDsa.publicKey);
  });

  it('refuses material of the wrong type, size, curve or parameter set', () => {
    const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const mlDsa44 = generateKeyPairSync('ml-dsa-44').privateKey;
    const cases: readonly [KeySpec, Buffer, string][] = [
      ['RSA_3072', der(rsa2048), 'modulus size'],
      ['RSA_2048', der(p256), 'EC key for RSA'],
      ['RSA_2048', der(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).privateKey), 'exponent 3'],
      ['RSA_2048', der(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey), 'RSA-PSS restricted key'],
      ['EC_P384', der(p256), 'curve'],
      ['EC_SECP256K1', der(p256), 'P-256 for secp256k1'],
      ['EC_P256', der(rsa2048), 'RSA key for EC'],
      ['ED25519', der(generateKeyPairSync('ed448').privateKey), 'Ed448'],
      ['ED25519', der(generateKeyPairSync('x25519').privateKey), 'X25519'],
      ['ML_DSA_65', der(mlDsa44), 'parameter set'],
      ['ML_DSA_44', der(generateKeyPairSync('ed25519').privateKey), 'Ed25519 for ML-DSA'],
    ];
    for (const [spec, material, why] of cases) assert.throws(() => importKeyMaterial(spec, material), { code: 'INVALID_KEY_MATERIAL' }, why);
  });

  it('refuses an RSA public exponent of 2^256 or more (FIPS 186-5 §A.1.1)', () => {
    // A consistent key with a huge exponent, rebuilt through JWK from a generated key's primes.
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const int = (value: string | undefined): bigint => BigInt(`0x${Buffer.from(value ?? assert.fail(), 'base64url').toString('hex')}`);
    const b64 = (value: bigint): string => Buffer.from(value.toString(16).padStart(2 * Math.ceil(value.toString(16).length / 2), '0'), 'hex').toString('base64url');
    const inverse = (a: bigint, m: bigint): bigint | undefined => {
      let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
      while (r1 !== 0n) { const q = r0 / r1; [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1]; }
      return r0 === 1n ? ((s0 % m) + m) % m : undefined;
    };
    const p = int(jwk.p);
    const q = int(jwk.q);
    const phi = (p - 1n) * (q - 1n);
    let e = (1n << 256n) + 1n;
    while (inverse(e, phi) === undefined) e += 2n;
    const d = inverse(e, phi) ?? assert.fail();
    const huge = createPrivateKey({ format: 'jwk', key: { ...jwk, e: b64(e), d: b64(d), dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)) } });
    assert.ok(verify('sha256', Buffer.from('m'), createPublicKey(huge), sign('sha256', Buffer.from('m'), huge)), 'the rebuilt key works');
    assert.throws(() => importKeyMaterial('RSA_2048', der(huge)), { code: 'INVALID_KEY_MATERIAL' });
  });

  it('refuses material that is not an unencrypted PKCS#8 private key, for every family', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const encrypted = p256.privateKey.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'x' });
    const sec1 = p256.privateKey.export({ type: 'sec1', format: 'der' });
    for (const { spec } of QUICK_ASYMMETRIC) {
      for (const bad of [Buffer.alloc(0), Buffer.from('not a key'), Buffer.alloc(100, 0x30), spki(p256.publicKey), encrypted, sec1]) {
        assert.throws(() => importKeyMaterial(spec, bad), { code: 'INVALID_KEY_MATERIAL' }, spec);
      }
    }
  });

  it('refuses a key pair whose halves do not match (pairwise consistency test)', () => {
    // PKCS#8 from node for P-256 ends with the public point 04 ‖ x ‖ y; graft another key's point on.
    const a = der(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const b = der(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const grafted = Buffer.concat([a.subarray(0, a.length - 64), b.subarray(b.length - 64)]);
    assert.doesNotThrow(() => createPrivateKey({ key: grafted, format: 'der', type: 'pkcs8' }), 'OpenSSL parses the grafted key');
    assert.throws(() => importKeyMaterial('EC_P256', grafted), { code: 'INVALID_KEY_MATERIAL' });
  });
});
