import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_SPECS, KEY_USAGES, type KeySpec, type KeyUsage } from '../key-record.ts';
import { checkOperation, type KeyOperation } from './check-operation.ts';
import { ENCRYPTION_ALGORITHMS, MAC_ALGORITHMS, SIGNING_ALGORITHMS, WRAPPING_ALGORITHMS } from './names.ts';
import { checkSpecUsage, specInfo } from './spec-table.ts';

// The expected table, written out independently of spec-table.ts so a change to either is caught.
const RSA_SIGN = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
const RSA = { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'WRAP_UNWRAP'], sign: RSA_SIGN, encrypt: ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_384', 'RSAES_OAEP_SHA_512'], wrap: ['RSA_AES_KEY_WRAP_SHA_256', 'RSAES_OAEP_SHA_256'], mac: undefined };
const EXPECTED: Record<KeySpec, { usages: string[]; sign: string[]; encrypt: string[]; wrap: string[]; mac: string | undefined }> = {
  AES_256: { usages: ['ENCRYPT_DECRYPT', 'WRAP_UNWRAP'], sign: [], encrypt: ['AES_256_GCM'], wrap: ['AES_KWP'], mac: undefined },
  HMAC_256: { usages: ['GENERATE_VERIFY_MAC', 'DERIVE'], sign: [], encrypt: [], wrap: [], mac: 'HMAC_SHA_256' },
  HMAC_384: { usages: ['GENERATE_VERIFY_MAC', 'DERIVE'], sign: [], encrypt: [], wrap: [], mac: 'HMAC_SHA_384' },
  HMAC_512: { usages: ['GENERATE_VERIFY_MAC', 'DERIVE'], sign: [], encrypt: [], wrap: [], mac: 'HMAC_SHA_512' },
  RSA_2048: RSA, RSA_3072: RSA, RSA_4096: RSA,
  EC_P256: { usages: ['SIGN_VERIFY', 'DERIVE'], sign: ['ECDSA_SHA_256'], encrypt: [], wrap: [], mac: undefined },
  EC_P384: { usages: ['SIGN_VERIFY', 'DERIVE'], sign: ['ECDSA_SHA_384'], encrypt: [], wrap: [], mac: undefined },
  EC_P521: { usages: ['SIGN_VERIFY', 'DERIVE'], sign: ['ECDSA_SHA_512'], encrypt: [], wrap: [], mac: undefined },
  EC_SECP256K1: { usages: ['SIGN_VERIFY'], sign: ['ECDSA_SHA_256'], encrypt: [], wrap: [], mac: undefined },
  ED25519: { usages: ['SIGN_VERIFY'], sign: ['ED25519'], encrypt: [], wrap: [], mac: undefined },
  ML_DSA_44: { usages: ['SIGN_VERIFY'], sign: ['ML_DSA'], encrypt: [], wrap: [], mac: undefined },
  ML_DSA_65: { usages: ['SIGN_VERIFY'], sign: ['ML_DSA'], encrypt: [], wrap: [], mac: undefined },
  ML_DSA_87: { usages: ['SIGN_VERIFY'], sign: ['ML_DSA'], encrypt: [], wrap: [], mac: undefined },
};

const OPERATIONS: readonly { op: KeyOperation; usage: KeyUsage }[] = [
  { op: 'ENCRYPT', usage: 'ENCRYPT_DECRYPT' }, { op: 'DECRYPT', usage: 'ENCRYPT_DECRYPT' },
  { op: 'SIGN', usage: 'SIGN_VERIFY' }, { op: 'VERIFY', usage: 'SIGN_VERIFY' },
  { op: 'GENERATE_MAC', usage: 'GENERATE_VERIFY_MAC' }, { op: 'VERIFY_MAC', usage: 'GENERATE_VERIFY_MAC' },
  { op: 'WRAP', usage: 'WRAP_UNWRAP' }, { op: 'UNWRAP', usage: 'WRAP_UNWRAP' },
];

describe('spec table', () => {
  it('lists exactly the expected usages and algorithms for every spec', () => {
    for (const spec of KEY_SPECS) {
      const info = specInfo(spec);
      const expected = EXPECTED[spec];
      assert.equal(info.spec, spec);
      assert.deepEqual([...info.usages], expected.usages, spec);
      assert.deepEqual([...info.signingAlgorithms], expected.sign, spec);
      assert.deepEqual([...info.encryptionAlgorithms], expected.encrypt, spec);
      assert.deepEqual([...info.wrappingAlgorithms], expected.wrap, spec);
      assert.equal(info.macAlgorithm, expected.mac, spec);
      assert.equal(info.symmetric, spec === 'AES_256' || spec.startsWith('HMAC_'), spec);
    }
  });

  it('gives each spec its family', () => {
    const families = KEY_SPECS.map((spec) => `${spec}:${specInfo(spec).family}`);
    assert.deepEqual(families, [
      'AES_256:AES', 'HMAC_256:HMAC', 'HMAC_384:HMAC', 'HMAC_512:HMAC', 'RSA_2048:RSA', 'RSA_3072:RSA', 'RSA_4096:RSA',
      'EC_P256:EC', 'EC_P384:EC', 'EC_P521:EC', 'EC_SECP256K1:EC', 'ED25519:ED25519', 'ML_DSA_44:ML_DSA', 'ML_DSA_65:ML_DSA', 'ML_DSA_87:ML_DSA',
    ]);
  });

  it('uses every algorithm name in at least one spec', () => {
    const used = new Set<string>(KEY_SPECS.flatMap((spec) => {
      const info = specInfo(spec);
      return [...info.signingAlgorithms, ...info.encryptionAlgorithms, ...info.wrappingAlgorithms, ...(info.macAlgorithm === undefined ? [] : [info.macAlgorithm])];
    }));
    for (const name of [...SIGNING_ALGORITHMS, ...ENCRYPTION_ALGORITHMS, ...WRAPPING_ALGORITHMS, ...MAC_ALGORITHMS]) assert.ok(used.has(name), name);
  });

  it('is frozen', () => {
    const info = specInfo('RSA_2048');
    assert.ok(Object.isFrozen(info) && Object.isFrozen(info.usages) && Object.isFrozen(info.signingAlgorithms));
  });

  it('refuses an unknown spec that reached specInfo unresolved', () => {
    assert.throws(() => specInfo('__proto__' as KeySpec), { code: 'UNSUPPORTED_ALGORITHM' });
  });
});

describe('checkSpecUsage', () => {
  it('allows exactly the listed usages for every spec', () => {
    for (const spec of KEY_SPECS) {
      for (const usage of KEY_USAGES) {
        if (EXPECTED[spec].usages.includes(usage)) assert.doesNotThrow(() => { checkSpecUsage(spec, usage); }, `${spec} ${usage}`);
        else assert.throws(() => { checkSpecUsage(spec, usage); }, { code: 'KEY_USAGE_NOT_ALLOWED' }, `${spec} ${usage}`);
      }
    }
  });
});

describe('checkOperation', () => {
  it('allows an operation only under its usage, for every spec and usage', () => {
    for (const spec of KEY_SPECS) {
      for (const usage of EXPECTED[spec].usages as KeyUsage[]) {
        for (const { op, usage: needed } of OPERATIONS) {
          const label = `${spec} ${usage} ${op}`;
          if (usage === needed) assert.doesNotThrow(() => { checkOperation(spec, usage, op); }, label);
          // The spec could do it under another usage: a usage refusal. It never could: a spec mismatch.
          else if (EXPECTED[spec].usages.includes(needed)) assert.throws(() => { checkOperation(spec, usage, op); }, { code: 'KEY_USAGE_NOT_ALLOWED' }, label);
          else assert.throws(() => { checkOperation(spec, usage, op); }, { code: 'INCOMPATIBLE_ALGORITHM' }, label);
        }
      }
    }
    assert.throws(() => { checkOperation('RSA_2048', 'SIGN_VERIFY', 'ENCRYPT', 'RSAES_OAEP_SHA_256'); }, { code: 'KEY_USAGE_NOT_ALLOWED' });
    assert.throws(() => { checkOperation('AES_256', 'ENCRYPT_DECRYPT', 'SIGN', 'ECDSA_SHA_256'); }, { code: 'INCOMPATIBLE_ALGORITHM' });
    assert.throws(() => { checkOperation('EC_P256', 'DERIVE', 'ENCRYPT'); }, { code: 'INCOMPATIBLE_ALGORITHM' });
    assert.throws(() => { checkOperation('EC_P256', 'DERIVE', 'SIGN'); }, { code: 'KEY_USAGE_NOT_ALLOWED' });
  });

  it('refuses a usage the spec cannot have', () => {
    assert.throws(() => { checkOperation('HMAC_256', 'ENCRYPT_DECRYPT', 'ENCRYPT'); }, { code: 'KEY_USAGE_NOT_ALLOWED' });
    assert.throws(() => { checkOperation('ED25519', 'WRAP_UNWRAP', 'WRAP'); }, { code: 'KEY_USAGE_NOT_ALLOWED' });
  });

  it('accepts every listed algorithm and refuses every other known one', () => {
    const cases: readonly { usage: KeyUsage; ops: KeyOperation[]; all: readonly string[]; listed: (spec: KeySpec) => string[] }[] = [
      { usage: 'SIGN_VERIFY', ops: ['SIGN', 'VERIFY'], all: SIGNING_ALGORITHMS, listed: (s) => EXPECTED[s].sign },
      { usage: 'ENCRYPT_DECRYPT', ops: ['ENCRYPT', 'DECRYPT'], all: ENCRYPTION_ALGORITHMS, listed: (s) => EXPECTED[s].encrypt },
      { usage: 'WRAP_UNWRAP', ops: ['WRAP', 'UNWRAP'], all: WRAPPING_ALGORITHMS, listed: (s) => EXPECTED[s].wrap },
      { usage: 'GENERATE_VERIFY_MAC', ops: ['GENERATE_MAC', 'VERIFY_MAC'], all: MAC_ALGORITHMS, listed: (s) => (EXPECTED[s].mac === undefined ? [] : [EXPECTED[s].mac]) },
    ];
    let checked = 0;
    for (const spec of KEY_SPECS) {
      for (const { usage, ops, all, listed } of cases) {
        if (!EXPECTED[spec].usages.includes(usage)) continue;
        for (const op of ops) {
          for (const algorithm of all) {
            checked++;
            if (listed(spec).includes(algorithm)) assert.doesNotThrow(() => { checkOperation(spec, usage, op, algorithm); }, `${spec} ${op} ${algorithm}`);
            else assert.throws(() => { checkOperation(spec, usage, op, algorithm); }, { code: 'INCOMPATIBLE_ALGORITHM' }, `${spec} ${op} ${algorithm}`);
          }
        }
      }
    }
    assert.ok(checked > 100);
  });

  it('fixes the ECDSA hash per curve as AWS KMS does', () => {
    assert.throws(() => { checkOperation('EC_P256', 'SIGN_VERIFY', 'SIGN', 'ECDSA_SHA_384'); }, { code: 'INCOMPATIBLE_ALGORITHM' });
    assert.throws(() => { checkOperation('EC_P384', 'SIGN_VERIFY', 'SIGN', 'ECDSA_SHA_256'); }, { code: 'INCOMPATIBLE_ALGORITHM' });
    assert.throws(() => { checkOperation('EC_P521', 'SIGN_VERIFY', 'VERIFY', 'ECDSA_SHA_384'); }, { code: 'INCOMPATIBLE_ALGORITHM' });
  });

  it('resolves the algorithm name: unknown and weak names are UNSUPPORTED_ALGORITHM', () => {
    assert.throws(() => { checkOperation('RSA_2048', 'SIGN_VERIFY', 'SIGN', 'RSASSA_PKCS1_V1_5_SHA_1'); }, { code: 'UNSUPPORTED_ALGORITHM' });
    assert.throws(() => { checkOperation('AES_256', 'ENCRYPT_DECRYPT', 'ENCRYPT', 'AES_256_CBC'); }, { code: 'UNSUPPORTED_ALGORITHM' });
    // A name of another kind is not a signing algorithm at all.
    assert.throws(() => { checkOperation('RSA_2048', 'SIGN_VERIFY', 'SIGN', 'RSAES_OAEP_SHA_256'); }, { code: 'UNSUPPORTED_ALGORITHM' });
  });

  it('gives public keys of asymmetric keys under any usage, never of symmetric ones', () => {
    for (const spec of KEY_SPECS) {
      for (const usage of EXPECTED[spec].usages as KeyUsage[]) {
        if (specInfo(spec).symmetric) assert.throws(() => { checkOperation(spec, usage, 'GET_PUBLIC_KEY'); }, { code: 'INCOMPATIBLE_ALGORITHM' });
        else assert.doesNotThrow(() => { checkOperation(spec, usage, 'GET_PUBLIC_KEY'); });
      }
    }
  });
});
