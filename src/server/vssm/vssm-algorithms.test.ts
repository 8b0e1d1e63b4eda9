// The VSSM algorithm table: every accepted name resolves to an engine name of the right family,
// weak names are refused as weak on every endpoint family, and the rest are refused as unsupported.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENCRYPTION_ALGORITHMS, MAC_ALGORITHMS, SIGNING_ALGORITHMS } from '../../core/algorithms/names.ts';
import { isCofferError } from '../../core/errors.ts';
import {
  resolveVssmAsymmetric, resolveVssmHmac, resolveVssmSignature, resolveVssmSymmetric, VSSM_ALGORITHMS, type VssmAlgorithmKind,
} from './vssm-algorithms.ts';
import { WEAK_NAMES } from './vssm-test-kit.ts';

const RESOLVERS: Record<VssmAlgorithmKind, (name: string) => string> = {
  symmetric: resolveVssmSymmetric,
  asymmetric: resolveVssmAsymmetric,
  signature: resolveVssmSignature,
  hmac: resolveVssmHmac,
};

const ENGINE_NAMES: Record<VssmAlgorithmKind, readonly string[]> = {
  symmetric: ['AES_256_GCM'],
  asymmetric: ENCRYPTION_ALGORITHMS.filter((a) => a.startsWith('RSAES_OAEP')),
  signature: SIGNING_ALGORITHMS,
  hmac: MAC_ALGORITHMS,
};

function refusal(resolve: (name: string) => string, name: string): { code: string; message: string } {
  try {
    resolve(name);
  } catch (error) {
    assert.ok(isCofferError(error));
    return { code: error.code, message: error.message };
  }
  assert.fail(`${name} was accepted`);
}

describe('VSSM algorithm names', () => {
  it('resolve every table row to an engine name of its family, and only for its family', () => {
    assert.ok(VSSM_ALGORITHMS.length >= 17);
    for (const row of VSSM_ALGORITHMS) {
      assert.equal(RESOLVERS[row.kind](row.vssm), row.engine, row.vssm);
      assert.ok(ENGINE_NAMES[row.kind].includes(row.engine), `${row.vssm} → ${row.engine}`);
      for (const [kind, resolve] of Object.entries(RESOLVERS)) {
        if (kind !== row.kind) assert.equal(refusal(resolve, row.vssm).code, 'UNSUPPORTED_ALGORITHM', `${row.vssm} as ${kind}`);
      }
    }
    assert.deepEqual(VSSM_ALGORITHMS.filter((r) => r.origin === 'vssm').map((r) => r.vssm), ['AES/GCM/NoPadding', 'RSA-OAEP/SHA256', 'SHA256withRSA', 'SHA256withECDSA', 'SHA256']);
  });

  it('refuse weak names as weak, on every endpoint family', () => {
    for (const names of Object.values(WEAK_NAMES)) {
      for (const name of names) {
        for (const resolve of Object.values(RESOLVERS)) {
          const { code, message } = refusal(resolve, name);
          assert.equal(code, 'UNSUPPORTED_ALGORITHM', name);
          assert.match(message, /refused as weak/, name);
        }
      }
    }
  });

  it('refuse unauthenticated AES modes, padded GCM, unknown and differently cased names as unsupported, not weak', () => {
    for (const name of ['AES/CBC/PKCS5Padding', 'AES/CTR/NoPadding', 'AES/GCM/PKCS5Padding', 'aes/gcm/nopadding', 'ChaCha20', 'SHA3-256withECDSA']) {
      const { code, message } = refusal(resolveVssmSymmetric, name);
      assert.equal(code, 'UNSUPPORTED_ALGORITHM', name);
      assert.doesNotMatch(message, /weak/, name);
    }
    assert.equal(refusal(resolveVssmSignature, '').code, 'INVALID_ARGUMENT');
    // SHA-256 and its longer siblings are never mistaken for SHA-1.
    for (const name of ['SHA256', 'SHA384', 'SHA512']) assert.ok(resolveVssmHmac(name).startsWith('HMAC_SHA_'));
  });
});
