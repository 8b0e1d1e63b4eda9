// rawSigner: detached signatures over the artifact's digest, each checked by the openssl CLI (or,
// for ML-DSA, which openssl 3.0 lacks, by node:crypto), and its refusals by code.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { openssl, ScratchDir } from '../../../core/algorithms/openssl-test-kit.ts';
import { isCofferError } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import { hashArtifact } from '../../artifact-hash.ts';
import type { FormatOptions } from '../format-signer.ts';
import { localKeySigner, type LocalKeySigner } from '../local-key-signer-test-kit.ts';
import { rawSigner } from './index.ts';

const scratch = new ScratchDir();
after(() => { scratch.remove(); });

/** An artifact a little over one hash-read chunk, so the streamed hashing crosses a boundary. */
const artifact = randomBytes(1024 * 1024 + 4097);
const artifactPath = scratch.write(artifact, 'artifact.bin');
const tampered = Buffer.from(artifact);
tampered[tampered.length >> 1] = (tampered[tampered.length >> 1] ?? 0) ^ 0x01;
const tamperedPath = scratch.write(tampered, 'tampered.bin');

async function signFile(signer: LocalKeySigner, options?: FormatOptions): Promise<{ sigPath: string; pubPath: string; algorithm: string }> {
  const plan = rawSigner.hashPlan(signer, options);
  assert.equal(plan.prefix, undefined);
  const output = await rawSigner.sign(await hashArtifact(plan, artifactPath), signer, options);
  assert.equal(output.suffix, '.sig');
  assert.equal(output.mediaType, 'application/octet-stream');
  return { sigPath: scratch.write(output.bytes, 'file.sig'), pubPath: scratch.write(Buffer.from(signer.publicKeyPem), 'pub.pem'), algorithm: output.algorithm };
}

function rejectsWith(code: string): (error: unknown) => boolean {
  return (error: unknown) => isCofferError(error) && error.code === code;
}

interface DgstCase {
  readonly spec: KeySpec;
  readonly options?: FormatOptions;
  readonly algorithm: string;
  readonly dgst: '-sha256' | '-sha384' | '-sha512';
  readonly pss?: true;
}

const DGST_CASES: readonly DgstCase[] = [
  { spec: 'RSA_2048', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', dgst: '-sha256' },
  { spec: 'RSA_2048', options: { algorithm: 'RSASSA_PSS_SHA_256' }, algorithm: 'RSASSA_PSS_SHA_256', dgst: '-sha256', pss: true },
  { spec: 'RSA_3072', algorithm: 'RSASSA_PKCS1_V1_5_SHA_384', dgst: '-sha384' },
  { spec: 'RSA_3072', options: { algorithm: 'RSASSA_PSS_SHA_512' }, algorithm: 'RSASSA_PSS_SHA_512', dgst: '-sha512', pss: true },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', dgst: '-sha256' },
  { spec: 'EC_P384', algorithm: 'ECDSA_SHA_384', dgst: '-sha384' },
  { spec: 'EC_P521', algorithm: 'ECDSA_SHA_512', dgst: '-sha512' },
];

describe('rawSigner with openssl dgst -verify', () => {
  for (const c of DGST_CASES) {
    it(`${c.spec} ${c.algorithm}: openssl verifies the file and rejects a tampered one`, async () => {
      const signer = localKeySigner(c.spec);
      const { sigPath, pubPath, algorithm } = await signFile(signer, c.options);
      assert.equal(algorithm, c.algorithm);
      // The module was handed a digest, never the file.
      assert.deepEqual(signer.calls, [{ algorithm: c.algorithm, input: 'digest' }]);
      const pss = c.pss === true ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : [];
      const verifyArgs = (file: string): string[] => ['dgst', c.dgst, '-verify', pubPath, ...pss, '-signature', sigPath, file];
      const good = openssl(verifyArgs(artifactPath));
      assert.ok(good.ok);
      assert.match(good.stdout.toString(), /Verified OK/);
      assert.equal(openssl(verifyArgs(tamperedPath)).ok, false);
    });
  }
});

describe('rawSigner with Ed25519 and ML-DSA (hash-then-sign)', () => {
  it('Ed25519 signs SHA-512(file) as its message: openssl pkeyutl -rawin verifies it over the 64 bytes', async () => {
    const signer = localKeySigner('ED25519');
    assert.deepEqual(rawSigner.hashPlan(signer), { hash: 'SHA-512' });
    const { sigPath, pubPath, algorithm } = await signFile(signer);
    assert.equal(algorithm, 'ED25519');
    assert.deepEqual(signer.calls, [{ algorithm: 'ED25519', input: 'message' }]);
    // The verifier hashes the file itself, with openssl: nothing of ours in the check.
    const check = (file: string): boolean => {
      const digestPath = scratch.output('digest.bin');
      assert.ok(openssl(['dgst', '-sha512', '-binary', '-out', digestPath, file]).ok);
      return openssl(['pkeyutl', '-verify', '-pubin', '-inkey', pubPath, '-rawin', '-in', digestPath, '-sigfile', sigPath]).ok;
    };
    assert.equal(check(artifactPath), true);
    assert.equal(check(tamperedPath), false);
  });

  it('ML_DSA_65 signs SHA-512(file) as its message: node:crypto verifies it over the 64 bytes', async () => {
    const signer = localKeySigner('ML_DSA_65');
    const { sigPath, algorithm } = await signFile(signer);
    assert.equal(algorithm, 'ML_DSA');
    assert.deepEqual(signer.calls, [{ algorithm: 'ML_DSA', input: 'message' }]);
    const publicKey = createPublicKey(signer.publicKeyPem);
    const signature = scratch.read(sigPath);
    assert.equal(verify(null, createHash('sha512').update(artifact).digest(), publicKey, signature), true);
    assert.equal(verify(null, createHash('sha512').update(tampered).digest(), publicKey, signature), false);
  });
});

describe('rawSigner refusals', () => {
  it('the hash plan follows the chosen algorithm, else the spec default', () => {
    const signer = localKeySigner('RSA_2048');
    assert.deepEqual(rawSigner.hashPlan(signer), { hash: 'SHA-256' });
    assert.deepEqual(rawSigner.hashPlan(signer, { algorithm: 'RSASSA_PKCS1_V1_5_SHA_512' }), { hash: 'SHA-512' });
    assert.deepEqual(rawSigner.hashPlan(localKeySigner('EC_P384')), { hash: 'SHA-384' });
  });

  it('a digest of the wrong length or from another hash is INVALID_DIGEST, before the module is asked', async () => {
    const signer = localKeySigner('EC_P256');
    const digest = createHash('sha256').update(artifact).digest();
    await assert.rejects(rawSigner.sign({ hash: 'SHA-256', digest: digest.subarray(1), size: artifact.length }, signer), rejectsWith('INVALID_DIGEST'));
    const sha384 = createHash('sha384').update(artifact).digest();
    await assert.rejects(rawSigner.sign({ hash: 'SHA-384', digest: sha384, size: artifact.length }, signer), rejectsWith('INVALID_DIGEST'));
    // Right length, wrong declared hash: still refused.
    await assert.rejects(rawSigner.sign({ hash: 'SHA-512', digest: randomBytes(32), size: artifact.length }, signer), rejectsWith('INVALID_DIGEST'));
    assert.deepEqual(signer.calls, []);
    // The same key and a right digest do sign: the refusals above are about the digest.
    await rawSigner.sign({ hash: 'SHA-256', digest, size: artifact.length }, signer);
    assert.equal(signer.calls.length, 1);
  });

  it('an algorithm the key cannot use is INCOMPATIBLE_ALGORITHM; an unknown one UNSUPPORTED_ALGORITHM', async () => {
    const ed25519 = localKeySigner('ED25519');
    assert.throws(() => rawSigner.hashPlan(ed25519, { algorithm: 'RSASSA_PSS_SHA_256' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.throws(() => rawSigner.hashPlan(localKeySigner('EC_P256'), { algorithm: 'ECDSA_SHA_384' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.throws(() => rawSigner.hashPlan(localKeySigner('RSA_2048'), { algorithm: 'ECDSA_SHA_256' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.throws(() => rawSigner.hashPlan(ed25519, { algorithm: 'NO_SUCH_ALGORITHM' }), rejectsWith('UNSUPPORTED_ALGORITHM'));
    const digest = createHash('sha256').update(artifact).digest();
    await assert.rejects(rawSigner.sign({ hash: 'SHA-256', digest, size: 1 }, ed25519, { algorithm: 'RSASSA_PSS_SHA_256' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.deepEqual(ed25519.calls, []);
  });

  it('a key that cannot sign at all (symmetric) is KEY_USAGE_NOT_ALLOWED', () => {
    const aes = { ...localKeySigner('EC_P256'), spec: 'AES_256' as const };
    assert.throws(() => rawSigner.hashPlan(aes), rejectsWith('KEY_USAGE_NOT_ALLOWED'));
  });
});
