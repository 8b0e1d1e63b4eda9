// Cross-checks signatures with the openssl CLI (OpenSSL 3.0, an independent build) in both
// directions: openssl verifies what Coffer signs, Coffer verifies what openssl signs.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { KeySpec } from '../key-record.ts';
import { SIGNING_PARAMETERS } from './algorithm-parameters.ts';
import { generateKeyMaterial } from './key-material.ts';
import type { SigningAlgorithm } from './names.ts';
import { openssl, opensslOrThrow, ScratchDir } from './openssl-test-kit.ts';
import { prepareKey } from './prepared-key.ts';
import { sign, signAsync, verify } from './signing.ts';
import { specInfo } from './spec-table.ts';

const scratch = new ScratchDir();
after(() => { scratch.remove(); });

const message = Buffer.from('Cross-checked with the openssl command line.\n');
const messageFile = scratch.write(message, 'message');
const CURVES = { EC_P256: p256, EC_P384: p384, EC_P521: p521, EC_SECP256K1: secp256k1 } as const;

interface Fixture { spec: KeySpec; keyFile: string; publicFile: string; key: ReturnType<typeof prepareKey> }
function fixture(spec: KeySpec): Fixture {
  const { material, publicKey } = generateKeyMaterial(spec);
  return { spec, keyFile: scratch.write(material, 'key.der'), publicFile: scratch.write(publicKey ?? assert.fail(), 'pub.der'), key: prepareKey(spec, material) };
}

/** The -sigopt / -pkeyopt values that select the algorithm's padding and PSS salt (= hash length). */
function paddingOptions(algorithm: SigningAlgorithm): string[] {
  const { scheme } = SIGNING_PARAMETERS[algorithm];
  if (scheme === 'RSASSA_PSS') return ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest'];
  if (scheme === 'RSASSA_PKCS1_V1_5') return ['rsa_padding_mode:pkcs1'];
  return [];
}
const sigopts = (algorithm: SigningAlgorithm): string[] => paddingOptions(algorithm).flatMap((o) => ['-sigopt', o]);
const pkeyopts = (algorithm: SigningAlgorithm): string[] => paddingOptions(algorithm).flatMap((o) => ['-pkeyopt', o]);
const hashOf = (algorithm: SigningAlgorithm): string => SIGNING_PARAMETERS[algorithm].hash ?? assert.fail();

/** openssl verifies a signature over the whole message. */
function opensslVerifiesMessage(f: Fixture, algorithm: SigningAlgorithm, signature: Uint8Array): boolean {
  const sigFile = scratch.write(signature, 'sig');
  if (SIGNING_PARAMETERS[algorithm].hash === undefined) {
    return openssl(['pkeyutl', '-verify', '-pubin', '-keyform', 'DER', '-inkey', f.publicFile, '-rawin', '-in', messageFile, '-sigfile', sigFile]).ok;
  }
  return openssl(['dgst', `-${hashOf(algorithm)}`, '-keyform', 'DER', '-verify', f.publicFile, ...sigopts(algorithm), '-signature', sigFile, messageFile]).ok;
}

/** openssl verifies a signature against the message's digest (EVP_PKEY_verify, no hashing). */
function opensslVerifiesDigest(f: Fixture, algorithm: SigningAlgorithm, signature: Uint8Array): boolean {
  const digestFile = scratch.write(createHash(hashOf(algorithm)).update(message).digest(), 'digest');
  return openssl(['pkeyutl', '-verify', '-pubin', '-keyform', 'DER', '-inkey', f.publicFile, '-in', digestFile, '-sigfile', scratch.write(signature, 'sig'),
    '-pkeyopt', `digest:${hashOf(algorithm)}`, ...pkeyopts(algorithm)]).ok;
}

function opensslSignsMessage(f: Fixture, algorithm: SigningAlgorithm): Buffer {
  if (SIGNING_PARAMETERS[algorithm].hash === undefined) {
    return opensslOrThrow(['pkeyutl', '-sign', '-keyform', 'DER', '-inkey', f.keyFile, '-rawin', '-in', messageFile]);
  }
  return opensslOrThrow(['dgst', `-${hashOf(algorithm)}`, '-keyform', 'DER', '-sign', f.keyFile, ...sigopts(algorithm), messageFile]);
}

function opensslSignsDigest(f: Fixture, algorithm: SigningAlgorithm): Buffer {
  const digestFile = scratch.write(createHash(hashOf(algorithm)).update(message).digest(), 'digest');
  return opensslOrThrow(['pkeyutl', '-sign', '-keyform', 'DER', '-inkey', f.keyFile, '-in', digestFile, '-pkeyopt', `digest:${hashOf(algorithm)}`, ...pkeyopts(algorithm)]);
}

const fixtures = (['RSA_2048', 'EC_P256', 'EC_P384', 'EC_P521', 'EC_SECP256K1', 'ED25519'] as const).map(fixture);

describe('signatures cross-checked with openssl', () => {
  for (const f of fixtures) {
    for (const algorithm of specInfo(f.spec).signingAlgorithms) {
      const hashed = SIGNING_PARAMETERS[algorithm].hash !== undefined;
      const digest = hashed ? createHash(hashOf(algorithm)).update(message).digest() : Buffer.alloc(0);

      it(`${f.spec} ${algorithm}: openssl verifies Coffer's signatures`, () => {
        const fromMessage = sign(f.key, algorithm, { type: 'MESSAGE', message });
        assert.ok(opensslVerifiesMessage(f, algorithm, fromMessage), 'message signature, openssl message verify');
        const tampered = Buffer.from(fromMessage);
        tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
        assert.equal(opensslVerifiesMessage(f, algorithm, tampered), false, 'openssl refuses a tampered signature');
        if (!hashed) return;
        const fromDigest = sign(f.key, algorithm, { type: 'DIGEST', digest });
        assert.ok(opensslVerifiesMessage(f, algorithm, fromDigest), 'digest signature, openssl message verify');
        assert.ok(opensslVerifiesDigest(f, algorithm, fromDigest), 'digest signature, openssl digest verify');
        assert.ok(opensslVerifiesDigest(f, algorithm, fromMessage), 'message signature, openssl digest verify');
      });

      it(`${f.spec} ${algorithm}: openssl verifies Coffer's thread-pool signatures`, async () => {
        assert.ok(opensslVerifiesMessage(f, algorithm, await signAsync(f.key, algorithm, { type: 'MESSAGE', message })));
      });

      it(`${f.spec} ${algorithm}: Coffer verifies openssl's signatures`, () => {
        const fromMessage = opensslSignsMessage(f, algorithm);
        assert.ok(verify(f.key, algorithm, { type: 'MESSAGE', message }, fromMessage), 'openssl message signature, message verify');
        assert.equal(verify(f.key, algorithm, { type: 'MESSAGE', message: Buffer.from('other') }, fromMessage), false);
        if (!hashed) return;
        assert.ok(verify(f.key, algorithm, { type: 'DIGEST', digest }, fromMessage), 'openssl message signature, digest verify');
        const fromDigest = opensslSignsDigest(f, algorithm);
        assert.ok(verify(f.key, algorithm, { type: 'DIGEST', digest }, fromDigest), 'openssl digest signature, digest verify');
        assert.ok(verify(f.key, algorithm, { type: 'MESSAGE', message }, fromDigest), 'openssl digest signature, message verify');
        if (SIGNING_PARAMETERS[algorithm].scheme === 'RSASSA_PKCS1_V1_5') {
          // PKCS#1 v1.5 is deterministic: openssl and Coffer produce the very same bytes (RFC 8017 §8.2.1).
          assert.deepEqual(sign(f.key, algorithm, { type: 'MESSAGE', message }), fromMessage);
          assert.deepEqual(sign(f.key, algorithm, { type: 'DIGEST', digest }), fromDigest);
        }
      });
    }
  }

  it('openssl accepts RAW (r‖s) ECDSA signatures once re-encoded as DER', () => {
    for (const f of fixtures) {
      if (!(f.spec in CURVES)) continue;
      const curve = CURVES[f.spec as keyof typeof CURVES];
      const algorithm = specInfo(f.spec).signingAlgorithms[0] ?? assert.fail();
      const digest = createHash(hashOf(algorithm)).update(message).digest();
      for (const input of [{ type: 'MESSAGE', message } as const, { type: 'DIGEST', digest } as const]) {
        const raw = sign(f.key, algorithm, input, 'RAW');
        assert.ok(opensslVerifiesMessage(f, algorithm, curve.Signature.fromBytes(raw, 'compact').toBytes('der')), f.spec);
      }
    }
  });
});
