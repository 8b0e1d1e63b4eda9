import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_SPECS, KEY_USAGES } from '../key-record.ts';
import { ENCRYPTION_ALGORITHMS, MAC_ALGORITHMS, SIGNING_ALGORITHMS, WRAPPING_ALGORITHMS } from './names.ts';
import {
  resolveEncryptionAlgorithm, resolveKeySpec, resolveKeyUsage, resolveMacAlgorithm, resolveSigningAlgorithm,
  resolveWrappingAlgorithm,
} from './resolve-names.ts';

const RESOLVERS = [
  { name: 'signing', resolve: resolveSigningAlgorithm, known: SIGNING_ALGORITHMS },
  { name: 'encryption', resolve: resolveEncryptionAlgorithm, known: ENCRYPTION_ALGORITHMS },
  { name: 'wrapping', resolve: resolveWrappingAlgorithm, known: WRAPPING_ALGORITHMS },
  { name: 'mac', resolve: resolveMacAlgorithm, known: MAC_ALGORITHMS },
  { name: 'key spec', resolve: resolveKeySpec, known: KEY_SPECS },
] as const;

const WEAK = {
  signing: ['RSASSA_PKCS1_V1_5_SHA_1', 'RSASSA_PSS_SHA_1', 'ECDSA_SHA_1', 'ECDSA_SHA1', 'SHA1withRSA', 'MD5withRSA', 'sha1-rsa', 'RSA_PKCS1_MD5', 'DSA_SHA_1'],
  encryption: ['DES', 'DES_CBC', '3DES', 'DESede', 'TRIPLE_DES', 'AES_256_ECB', 'aes-128-ecb', 'RC4', 'RSAES_PKCS1_V1_5', 'RSA_PKCS1', 'CKM_RSA_PKCS', 'RSAES_OAEP_SHA_1'],
  wrapping: ['RSAES_OAEP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_PKCS1_PADDING', 'DES3_KEY_WRAP'],
  mac: ['HMAC_SHA_1', 'HMAC_SHA1', 'HMAC_MD5', 'hmac-sha1'],
  'key spec': ['RSA_1024', 'RSA_512', 'EC_P192', 'DES', '3DES', 'SECP192R1', 'EC_P224'],
} as const;

const UNKNOWN = ['', 'nope', 'RSASSA_PSS_SHA_224', 'rsassa_pss_sha_256', 'AES_256_CBC', 'ECDSA_SHA_128', '__proto__', 'toString', 'ECDSA', 'EC_P999', 'RSA_8192', 'AES_128'];

describe('name resolution', () => {
  it('returns every known name unchanged', () => {
    for (const { name, resolve, known } of RESOLVERS) for (const value of known) assert.equal(resolve(value), value, name);
    for (const usage of KEY_USAGES) assert.equal(resolveKeyUsage(usage), usage);
  });

  it('refuses weak names with UNSUPPORTED_ALGORITHM and says they are weak', () => {
    for (const { name, resolve } of RESOLVERS) {
      for (const weak of WEAK[name]) assert.throws(() => resolve(weak), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'UNSUPPORTED_ALGORITHM', `${name} ${weak}`);
        assert.match((error as Error).message, /weak/, `${name} ${weak}`);
        return true;
      });
    }
  });

  it('refuses unknown names with UNSUPPORTED_ALGORITHM without calling them weak or echoing them', () => {
    for (const { name, resolve } of RESOLVERS) {
      for (const unknown of [...UNKNOWN, 'x'.repeat(10_000)]) assert.throws(() => resolve(unknown), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'UNSUPPORTED_ALGORITHM', `${name} ${unknown}`);
        assert.doesNotMatch((error as Error).message, /weak|xxxx/, `${name} ${unknown}`);
        return true;
      });
    }
  });

  it('does not mistake strong names of other kinds for weak ones', () => {
    // SHA_1 followed by digits, names containing DES inside a word, and OAEP with PKCS1 in the name.
    for (const name of ['ECDSA_SHA_128', 'RSA_PKCS1_OAEP_SHA_256', 'ECDSA_SHA_256_X', 'EDDSA']) {
      assert.throws(() => resolveEncryptionAlgorithm(name), (error: unknown) => !(error as Error).message.includes('weak'));
    }
  });

  it('refuses non-strings with INVALID_ARGUMENT', () => {
    for (const { resolve } of RESOLVERS) for (const value of [undefined, null, 3, {}, ['ED25519']]) assert.throws(() => resolve(value), { code: 'INVALID_ARGUMENT' });
  });

  it('refuses unknown usages with INVALID_ARGUMENT', () => {
    for (const value of ['SIGN', 'sign_verify', '', 7, undefined]) assert.throws(() => resolveKeyUsage(value), { code: 'INVALID_ARGUMENT' });
  });
});
