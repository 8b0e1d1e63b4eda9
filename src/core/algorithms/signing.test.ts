import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPrivateKey, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { KeySpec } from '../key-record.ts';
import { SIGNING_PARAMETERS } from './algorithm-parameters.ts';
import { generateKeyMaterial, importKeyMaterial } from './key-material.ts';
import type { SignatureFormat, SignInput, SigningAlgorithm } from './names.ts';
import { prepareKey, preparePublicKey, type PreparedKey } from './prepared-key.ts';
import { sign, signAsync, verify } from './signing.ts';
import { specInfo } from './spec-table.ts';

const SPECS: readonly KeySpec[] = ['RSA_2048', 'EC_P256', 'EC_P384', 'EC_P521', 'EC_SECP256K1', 'ED25519', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87'];
const keys = new Map<KeySpec, PreparedKey>(SPECS.map((spec) => [spec, prepareKey(spec, generateKeyMaterial(spec).material)]));
const others = new Map<KeySpec, PreparedKey>(SPECS.map((spec) => [spec, prepareKey(spec, generateKeyMaterial(spec).material)]));
const keyOf = (spec: KeySpec): PreparedKey => keys.get(spec) ?? assert.fail(spec);

const message = Buffer.from('Coffer signs this message.');
const asMessage = (m: Uint8Array): SignInput => ({ type: 'MESSAGE', message: m });
const asDigest = (d: Uint8Array): SignInput => ({ type: 'DIGEST', digest: d });
function digestOf(algorithm: SigningAlgorithm, m: Uint8Array): Buffer {
  const { hash } = SIGNING_PARAMETERS[algorithm];
  return createHash(hash ?? assert.fail('no hash')).update(m).digest();
}
function formatsOf(algorithm: SigningAlgorithm): SignatureFormat[] {
  return SIGNING_PARAMETERS[algorithm].scheme === 'ECDSA' ? ['DER', 'RAW'] : ['DER'];
}
function flip(data: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(data);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}
const everyCase = SPECS.flatMap((spec) => specInfo(spec).signingAlgorithms.flatMap((algorithm) => formatsOf(algorithm).map((format) => ({ spec, algorithm, format }))));

describe('sign and verify', () => {
  it('covers every signing algorithm', () => {
    assert.deepEqual(new Set(everyCase.map((c) => c.algorithm)), new Set(Object.keys(SIGNING_PARAMETERS)));
  });

  it('round-trips every algorithm and format, message and digest signatures crossed', () => {
    for (const { spec, algorithm, format } of everyCase) {
      const key = keyOf(spec);
      const label = `${spec} ${algorithm} ${format}`;
      const fromMessage = sign(key, algorithm, asMessage(message), format);
      assert.ok(verify(key, algorithm, asMessage(message), fromMessage, format), label);
      if (SIGNING_PARAMETERS[algorithm].hash === undefined) continue;
      const digest = digestOf(algorithm, message);
      const fromDigest = sign(key, algorithm, asDigest(digest), format);
      assert.ok(verify(key, algorithm, asDigest(digest), fromMessage, format), `${label}: message signature, digest verify`);
      assert.ok(verify(key, algorithm, asMessage(message), fromDigest, format), `${label}: digest signature, message verify`);
      assert.ok(verify(key, algorithm, asDigest(digest), fromDigest, format), `${label}: digest both ways`);
    }
  });

  it('rejects tampered signatures, other messages and other keys in both modes', () => {
    for (const { spec, algorithm, format } of everyCase) {
      const key = keyOf(spec);
      const other = others.get(spec) ?? assert.fail(spec);
      const label = `${spec} ${algorithm} ${format}`;
      const signature = sign(key, algorithm, asMessage(message), format);
      const inputs = SIGNING_PARAMETERS[algorithm].hash === undefined ? [asMessage(message)] : [asMessage(message), asDigest(digestOf(algorithm, message))];
      for (const input of inputs) {
        for (const index of [0, Math.floor(signature.length / 2), signature.length - 1]) assert.equal(verify(key, algorithm, input, flip(signature, index), format), false, `${label} flip ${index}`);
        assert.equal(verify(other, algorithm, input, signature, format), false, `${label} other key`);
      }
      assert.equal(verify(key, algorithm, asMessage(Buffer.from('another message')), signature, format), false, label);
      if (inputs.length > 1) assert.equal(verify(key, algorithm, asDigest(digestOf(algorithm, Buffer.from('x'))), signature, format), false, label);
    }
  });

  it('answers false, never throws, for malformed signatures', () => {
    for (const { spec, algorithm, format } of everyCase) {
      const key = keyOf(spec);
      const good = sign(key, algorithm, asMessage(message), format);
      const malformed = [Buffer.alloc(0), Buffer.from([0x30]), Buffer.alloc(good.length), randomBytes(good.length), good.subarray(1), Buffer.concat([good, Buffer.from([0])]), Buffer.alloc(9000, 0xff)];
      const inputs = SIGNING_PARAMETERS[algorithm].hash === undefined ? [asMessage(message)] : [asMessage(message), asDigest(digestOf(algorithm, message))];
      for (const input of inputs) for (const bad of malformed) assert.equal(verify(key, algorithm, input, bad, format), false, `${spec} ${algorithm} ${format} ${bad.length}`);
    }
  });

  it('refuses an RSA signature shorter than the modulus even when it is the same integer (RFC 8017 §8.1.2, §8.2.2)', () => {
    const key = keyOf('RSA_2048');
    for (const algorithm of ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'] as const) {
      // About one signature in 256 starts with a zero octet; stripping it keeps the integer the same.
      let found: { input: ReturnType<typeof asMessage>; signature: Buffer } | undefined;
      for (let i = 0; found === undefined && i < 5000; i++) {
        const input = asMessage(Buffer.from(`message ${i}`));
        const signature = sign(key, algorithm, input);
        if (signature[0] === 0) found = { input, signature };
      }
      assert.ok(found !== undefined, algorithm);
      assert.equal(verify(key, algorithm, found.input, found.signature), true, algorithm);
      assert.equal(verify(key, algorithm, found.input, found.signature.subarray(1)), false, algorithm);
    }
  });

  it('makes RAW ECDSA signatures fixed-width r‖s and DER ones ASN.1 sequences', () => {
    const widths: Partial<Record<KeySpec, number>> = { EC_P256: 64, EC_P384: 96, EC_P521: 132, EC_SECP256K1: 64 };
    for (const [spec, width] of Object.entries(widths) as [KeySpec, number][]) {
      const algorithm = specInfo(spec).signingAlgorithms[0] ?? assert.fail(spec);
      for (const input of [asMessage(message), asDigest(digestOf(algorithm, message))]) {
        assert.equal(sign(keyOf(spec), algorithm, input, 'RAW').length, width, spec);
        const der = sign(keyOf(spec), algorithm, input, 'DER');
        assert.equal(der[0], 0x30, spec);
        assert.equal(verify(keyOf(spec), algorithm, input, der, 'RAW'), false, `${spec} DER given as RAW`);
      }
    }
  });

  it('makes deterministic PKCS#1 v1.5 signatures, identical from message and digest (RFC 8017 §8.2)', () => {
    const key = keyOf('RSA_2048');
    for (const algorithm of ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'] as const) {
      const a = sign(key, algorithm, asMessage(message));
      assert.deepEqual(sign(key, algorithm, asMessage(message)), a, algorithm);
      assert.deepEqual(sign(key, algorithm, asDigest(digestOf(algorithm, message))), a, algorithm);
      assert.equal(a.length, 256);
    }
  });

  it('salts PSS with the hash length and refuses other salt lengths', () => {
    const material = generateKeyMaterial('RSA_2048').material;
    const key = prepareKey('RSA_2048', material);
    const privateKey = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
    for (const [algorithm, hash, hLen] of [['RSASSA_PSS_SHA_256', 'sha256', 32], ['RSASSA_PSS_SHA_512', 'sha512', 64]] as const) {
      for (const input of [asMessage(message), asDigest(digestOf(algorithm, message))]) {
        const signature = sign(key, algorithm, input);
        assert.notDeepEqual(sign(key, algorithm, input), signature, 'PSS is randomised');
        assert.ok(nodeVerify(hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hLen }, signature));
        assert.equal(nodeVerify(hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hLen + 1 }, signature), false);
        const maxSalt = nodeSign(hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN });
        assert.equal(verify(key, algorithm, input, maxSalt), false, `${algorithm} maximum salt`);
      }
    }
  });

  it('normalises secp256k1 signatures to low S in both modes and formats', () => {
    const key = keyOf('EC_SECP256K1');
    const half = secp256k1.Point.Fn.ORDER / 2n;
    for (let i = 0; i < 16; i++) {
      for (const input of [asMessage(message), asDigest(digestOf('ECDSA_SHA_256', message))]) {
        for (const format of ['DER', 'RAW'] as const) {
          const parsed = secp256k1.Signature.fromBytes(sign(key, 'ECDSA_SHA_256', input, format), format === 'DER' ? 'der' : 'compact');
          assert.ok(parsed.s <= half, `round ${i}`);
        }
      }
    }
  });

  it('accepts high-S signatures as OpenSSL does', () => {
    for (const [spec, curve] of [['EC_SECP256K1', secp256k1], ['EC_P256', p256]] as const) {
      const key = keyOf(spec);
      const raw = sign(key, 'ECDSA_SHA_256', asMessage(message), 'RAW');
      const parsed = curve.Signature.fromBytes(raw, 'compact');
      const other = new curve.Signature(parsed.r, curve.Point.Fn.ORDER - parsed.s);
      for (const input of [asMessage(message), asDigest(digestOf('ECDSA_SHA_256', message))]) {
        assert.ok(verify(key, 'ECDSA_SHA_256', input, other.toBytes('compact'), 'RAW'), spec);
        assert.ok(verify(key, 'ECDSA_SHA_256', input, other.toBytes('der'), 'DER'), spec);
      }
    }
  });

  it('verifies with a key prepared from the public half only', () => {
    for (const { spec, algorithm, format } of everyCase) {
      const { material, publicKey } = generateKeyMaterial(spec);
      const signature = sign(prepareKey(spec, material), algorithm, asMessage(message), format);
      assert.ok(verify(preparePublicKey(spec, publicKey ?? assert.fail()), algorithm, asMessage(message), signature, format), spec);
    }
  });
});

describe('signAsync (message signatures on the thread pool)', () => {
  it('makes signatures that verify for every algorithm, format and input mode', async () => {
    for (const { spec, algorithm, format } of everyCase) {
      const key = keyOf(spec);
      const label = `${spec} ${algorithm} ${format}`;
      const fromMessage = await signAsync(key, algorithm, asMessage(message), format);
      assert.ok(verify(key, algorithm, asMessage(message), fromMessage, format), label);
      assert.equal(verify(others.get(spec) ?? assert.fail(spec), algorithm, asMessage(message), fromMessage, format), false, `${label} other key`);
      if (SIGNING_PARAMETERS[algorithm].hash === undefined) continue;
      const digest = digestOf(algorithm, message);
      assert.ok(verify(key, algorithm, asMessage(message), await signAsync(key, algorithm, asDigest(digest), format), format), `${label} digest`);
    }
  });

  it('gives the same bytes as sign where the scheme is deterministic, and low S on secp256k1', async () => {
    for (const algorithm of ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_512'] as const) {
      assert.deepEqual(await signAsync(keyOf('RSA_2048'), algorithm, asMessage(message)), sign(keyOf('RSA_2048'), algorithm, asMessage(message)), algorithm);
    }
    assert.deepEqual(await signAsync(keyOf('ED25519'), 'ED25519', asMessage(message)), sign(keyOf('ED25519'), 'ED25519', asMessage(message)));
    const half = secp256k1.Point.Fn.ORDER / 2n;
    const signatures = await Promise.all(Array.from({ length: 32 }, () => signAsync(keyOf('EC_SECP256K1'), 'ECDSA_SHA_256', asMessage(message), 'DER')));
    for (const signature of signatures) assert.ok(secp256k1.Signature.fromBytes(signature, 'der').s <= half);
  });

  it('rejects with the codes sign throws', async () => {
    await assert.rejects(signAsync(keyOf('EC_P256'), 'ECDSA_SHA_384', asMessage(message)), { code: 'INCOMPATIBLE_ALGORITHM' });
    await assert.rejects(signAsync(keyOf('ED25519'), 'ED25519', asDigest(Buffer.alloc(32))), { code: 'DIGEST_NOT_SUPPORTED' });
    await assert.rejects(signAsync(keyOf('EC_P256'), 'ECDSA_SHA_256', asDigest(Buffer.alloc(20))), { code: 'INVALID_DIGEST' });
    await assert.rejects(signAsync(keyOf('RSA_2048'), 'RSASSA_PSS_SHA_256', asMessage(message), 'RAW'), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(signAsync(keyOf('ED25519'), 'ED25519', asMessage(Buffer.alloc(16 * 1024 * 1024 + 1))), { code: 'INPUT_TOO_LARGE' });
    const { publicKey } = generateKeyMaterial('EC_P256');
    await assert.rejects(signAsync(preparePublicKey('EC_P256', publicKey ?? assert.fail()), 'ECDSA_SHA_256', asMessage(message)), { code: 'INVALID_ARGUMENT' });
  });
});

describe('RFC 8032 §7.1 Ed25519 test vectors', () => {
  const vectors = [
    { seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', message: '', signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b' },
    { seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', message: '72', signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00' },
    { seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', message: 'af82', signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a' },
  ];
  for (const [index, vector] of vectors.entries()) {
    it(`matches test ${index + 1}`, async () => {
      // RFC 8410 §7: PKCS#8 PrivateKeyInfo holding the 32-byte seed.
      const pkcs8 = Buffer.from(`302e020100300506032b657004220420${vector.seed}`, 'hex');
      const imported = importKeyMaterial('ED25519', pkcs8);
      assert.equal(imported.publicKey?.subarray(-32).toString('hex'), vector.publicKey);
      const input = asMessage(Buffer.from(vector.message, 'hex'));
      assert.equal(sign(prepareKey('ED25519', imported.material), 'ED25519', input).toString('hex'), vector.signature);
      assert.equal((await signAsync(prepareKey('ED25519', imported.material), 'ED25519', input)).toString('hex'), vector.signature);
      const spki = Buffer.from(`302a300506032b6570032100${vector.publicKey}`, 'hex');
      assert.ok(verify(preparePublicKey('ED25519', spki), 'ED25519', input, Buffer.from(vector.signature, 'hex')));
    });
  }
});

describe('signing errors', () => {
  const msg = asMessage(message);
  it('refuses algorithms that do not fit the spec with INCOMPATIBLE_ALGORITHM', () => {
    const cases: readonly [KeySpec, SigningAlgorithm][] = [
      ['EC_P256', 'ECDSA_SHA_384'], ['EC_P256', 'ECDSA_SHA_512'], ['EC_P384', 'ECDSA_SHA_256'], ['EC_P521', 'ECDSA_SHA_256'],
      ['EC_SECP256K1', 'ECDSA_SHA_384'], ['EC_P256', 'RSASSA_PSS_SHA_256'], ['RSA_2048', 'ECDSA_SHA_256'], ['RSA_2048', 'ED25519'],
      ['ED25519', 'ML_DSA'], ['ML_DSA_44', 'ED25519'], ['ED25519', 'ECDSA_SHA_256'],
    ];
    for (const [spec, algorithm] of cases) {
      assert.throws(() => sign(keyOf(spec), algorithm, msg), { code: 'INCOMPATIBLE_ALGORITHM' }, `${spec} ${algorithm}`);
      assert.throws(() => verify(keyOf(spec), algorithm, msg, Buffer.alloc(64)), { code: 'INCOMPATIBLE_ALGORITHM' }, `${spec} ${algorithm}`);
    }
    for (const spec of ['AES_256', 'HMAC_256'] as const) {
      assert.throws(() => sign(prepareKey(spec, generateKeyMaterial(spec).material), 'ECDSA_SHA_256', msg), { code: 'INCOMPATIBLE_ALGORITHM' }, spec);
    }
  });

  it('refuses digests for Ed25519 and ML-DSA with DIGEST_NOT_SUPPORTED', () => {
    for (const [spec, algorithm] of [['ED25519', 'ED25519'], ['ML_DSA_65', 'ML_DSA']] as const) {
      assert.throws(() => sign(keyOf(spec), algorithm, asDigest(Buffer.alloc(32))), { code: 'DIGEST_NOT_SUPPORTED' });
      assert.throws(() => verify(keyOf(spec), algorithm, asDigest(Buffer.alloc(64)), Buffer.alloc(64)), { code: 'DIGEST_NOT_SUPPORTED' });
    }
  });

  it('refuses digests of the wrong length with INVALID_DIGEST', () => {
    const cases: readonly [KeySpec, SigningAlgorithm, number[]][] = [
      ['RSA_2048', 'RSASSA_PSS_SHA_256', [0, 20, 31, 33, 48]], ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_384', [32, 47, 64]],
      ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_512', [32, 48, 63]], ['EC_P256', 'ECDSA_SHA_256', [0, 20, 48, 64]],
      ['EC_P384', 'ECDSA_SHA_384', [32, 64]], ['EC_P521', 'ECDSA_SHA_512', [32, 48, 66]], ['EC_SECP256K1', 'ECDSA_SHA_256', [33]],
    ];
    for (const [spec, algorithm, lengths] of cases) {
      for (const length of lengths) {
        assert.throws(() => sign(keyOf(spec), algorithm, asDigest(Buffer.alloc(length, 1))), { code: 'INVALID_DIGEST' }, `${algorithm} ${length}`);
        assert.throws(() => verify(keyOf(spec), algorithm, asDigest(Buffer.alloc(length, 1)), Buffer.alloc(64)), { code: 'INVALID_DIGEST' }, `${algorithm} ${length}`);
      }
    }
  });

  it('refuses the RAW format outside ECDSA, and unknown formats or input types, with INVALID_ARGUMENT', () => {
    for (const [spec, algorithm] of [['RSA_2048', 'RSASSA_PSS_SHA_256'], ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256'], ['ED25519', 'ED25519'], ['ML_DSA_44', 'ML_DSA']] as const) {
      assert.throws(() => sign(keyOf(spec), algorithm, msg, 'RAW'), { code: 'INVALID_ARGUMENT' }, algorithm);
      assert.throws(() => verify(keyOf(spec), algorithm, msg, Buffer.alloc(64), 'RAW'), { code: 'INVALID_ARGUMENT' }, algorithm);
    }
    assert.throws(() => sign(keyOf('EC_P256'), 'ECDSA_SHA_256', msg, 'PEM' as SignatureFormat), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sign(keyOf('EC_P256'), 'ECDSA_SHA_256', { type: 'HASH', digest: Buffer.alloc(32) } as unknown as SignInput), { code: 'INVALID_ARGUMENT' });
  });

  it('limits messages to 16 MiB with INPUT_TOO_LARGE', () => {
    const limit = 16 * 1024 * 1024;
    const key = keyOf('EC_P256');
    const atLimit = Buffer.alloc(limit, 1);
    assert.ok(verify(key, 'ECDSA_SHA_256', asMessage(atLimit), sign(key, 'ECDSA_SHA_256', asMessage(atLimit))));
    const over = Buffer.alloc(limit + 1);
    assert.throws(() => sign(key, 'ECDSA_SHA_256', asMessage(over)), { code: 'INPUT_TOO_LARGE' });
    assert.throws(() => verify(key, 'ECDSA_SHA_256', asMessage(over), Buffer.alloc(64)), { code: 'INPUT_TOO_LARGE' });
    assert.throws(() => sign(keyOf('ED25519'), 'ED25519', asMessage(over)), { code: 'INPUT_TOO_LARGE' });
  });
});
