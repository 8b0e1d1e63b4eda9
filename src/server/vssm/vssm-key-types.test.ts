// VSSM key types and sizes → Coffer specs: generated and injected keys get the spec their size or
// material says, weak sizes are refused as weak, and listkeys shows each spec in VSSM's lists.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { isCofferError } from '../../core/errors.ts';
import { generatedKeyKind, injectedKeyKind, parseKeyType, vssmViewOf } from './vssm-key-types.ts';

function refusal(run: () => unknown): { code: string; weak: boolean } {
  try {
    run();
  } catch (error) {
    assert.ok(isCofferError(error));
    return { code: error.code, weak: /weak/.test(error.message) };
  }
  assert.fail('accepted');
}

function pkcs8(type: 'rsa' | 'ec' | 'ed25519', parameter?: number | string): Buffer {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: Number(parameter) })
    : type === 'ec' ? generateKeyPairSync('ec', { namedCurve: String(parameter) })
      : generateKeyPairSync('ed25519');
  return pair.privateKey.export({ format: 'der', type: 'pkcs8' });
}

describe('VSSM key types', () => {
  it('map generatekey types and sizes to specs, absent sizes to the smallest strong one', () => {
    assert.deepEqual(generatedKeyKind('SYMMETRIC', '', 32), { spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    assert.deepEqual(generatedKeyKind('SYMMETRIC', '', 0), { spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    assert.deepEqual(generatedKeyKind('MAC', '', 0), { spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' });
    assert.deepEqual(generatedKeyKind('MAC', '', 64), { spec: 'HMAC_512', usage: 'GENERATE_VERIFY_MAC' });
    assert.deepEqual(generatedKeyKind('ASYMMETRIC', 'RSA', 3072), { spec: 'RSA_3072', usage: 'SIGN_VERIFY' });
    assert.deepEqual(generatedKeyKind('ASYMMETRIC', 'EC', 521), { spec: 'EC_P521', usage: 'SIGN_VERIFY' });
    assert.deepEqual(generatedKeyKind('ASYMMETRIC', 'ED25519', 0), { spec: 'ED25519', usage: 'SIGN_VERIFY' });
    for (const [type, spec, size] of [['SYMMETRIC', '', 8], ['SYMMETRIC', '', 24], ['ASYMMETRIC', 'RSA', 1024], ['ASYMMETRIC', 'EC', 226], ['MAC', '', 16], ['MAC', '', 40]] as const) {
      const { code, weak } = refusal(() => generatedKeyKind(type, spec, size));
      assert.equal(code, 'UNSUPPORTED_ALGORITHM', `${type} ${spec} ${size}`);
      assert.equal(weak, size === 8 || size === 1024 || size === 226 || size === 16, `${type} ${size}`);
    }
    assert.equal(refusal(() => generatedKeyKind('ASYMMETRIC', 'DSA', 2048)).code, 'INVALID_ARGUMENT');
    assert.equal(refusal(() => generatedKeyKind('SYMMETRIC', 'RSA', 32)).code, 'INVALID_ARGUMENT');
    assert.equal(refusal(() => parseKeyType('symmetric')).code, 'INVALID_ARGUMENT');
  });

  it('map injected material by its length or its PKCS#8 key', () => {
    assert.equal(injectedKeyKind('SYMMETRIC', Buffer.alloc(32)).spec, 'AES_256');
    assert.equal(refusal(() => injectedKeyKind('SYMMETRIC', Buffer.alloc(8))).weak, true);
    assert.equal(injectedKeyKind('MAC', Buffer.alloc(40)).spec, 'HMAC_256');
    assert.equal(injectedKeyKind('MAC', Buffer.alloc(48)).spec, 'HMAC_384');
    assert.equal(injectedKeyKind('MAC', Buffer.alloc(100)).spec, 'HMAC_512');
    assert.equal(refusal(() => injectedKeyKind('MAC', Buffer.alloc(20))).weak, true);
    assert.equal(refusal(() => injectedKeyKind('MAC', Buffer.alloc(129))).code, 'UNSUPPORTED_ALGORITHM');
    assert.equal(injectedKeyKind('ASYMMETRIC', pkcs8('ec', 'P-384')).spec, 'EC_P384');
    assert.equal(injectedKeyKind('ASYMMETRIC', pkcs8('ed25519')).spec, 'ED25519');
    assert.equal(injectedKeyKind('ASYMMETRIC', pkcs8('rsa', 2048)).spec, 'RSA_2048');
    assert.equal(refusal(() => injectedKeyKind('ASYMMETRIC', pkcs8('rsa', 1024))).weak, true);
    assert.equal(refusal(() => injectedKeyKind('ASYMMETRIC', pkcs8('ec', 'P-224'))).code, 'UNSUPPORTED_ALGORITHM');
    assert.equal(refusal(() => injectedKeyKind('ASYMMETRIC', Buffer.from('not a key'))).code, 'INVALID_KEY_MATERIAL');
  });

  it('show keys in the VSSM list of their type, and none for types VSSM lacks', () => {
    assert.deepEqual(vssmViewOf('AES_256', 'ENCRYPT_DECRYPT'), { type: 'SYMMETRIC', keyLength: 32 });
    assert.deepEqual(vssmViewOf('HMAC_384', 'GENERATE_VERIFY_MAC'), { type: 'MAC', keyLength: 48 });
    assert.deepEqual(vssmViewOf('RSA_4096', 'ENCRYPT_DECRYPT'), { type: 'ASYMMETRIC', keySpec: 'RSA' });
    assert.deepEqual(vssmViewOf('EC_SECP256K1', 'SIGN_VERIFY'), { type: 'ASYMMETRIC', keySpec: 'EC' });
    for (const [spec, usage] of [['AES_256', 'WRAP_UNWRAP'], ['RSA_3072', 'WRAP_UNWRAP'], ['ML_DSA_65', 'SIGN_VERIFY'], ['EC_P256', 'DERIVE']] as const) {
      assert.equal(vssmViewOf(spec, usage), undefined, `${spec} ${usage}`);
    }
  });
});
