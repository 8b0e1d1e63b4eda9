// jwsSigner: detached JWS with an unencoded payload (RFC 7797), verified by jose over the file's
// bytes, its protected header checked to the byte, and its refusals by code.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { compactVerify, flattenedVerify, importSPKI } from 'jose';
import { ScratchDir } from '../../../core/algorithms/openssl-test-kit.ts';
import { isCofferError } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import { hashArtifact } from '../../artifact-hash.ts';
import type { FormatOptions } from '../format-signer.ts';
import { localKeySigner, type LocalKeySigner } from '../local-key-signer-test-kit.ts';
import { jwsSigner } from './index.ts';

const scratch = new ScratchDir();
after(() => { scratch.remove(); });

const artifact = randomBytes(1024 * 1024 + 4097);
const artifactPath = scratch.write(artifact, 'artifact.bin');
const tampered = Buffer.from(artifact);
tampered[0] = (tampered[0] ?? 0) ^ 0x80;

function rejectsWith(code: string): (error: unknown) => boolean {
  return (error: unknown) => isCofferError(error) && error.code === code;
}

function joseRejectsWith(code: string): (error: unknown) => boolean {
  return (error: unknown) => error instanceof Error && 'code' in error && error.code === code;
}

/** The three parts of a compact JWS; the payload part must be empty (detached). */
function parts(bytes: Buffer): { protectedHeader: string; payload: string; signature: string } {
  const text = bytes.toString('ascii');
  assert.match(text, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
  const [protectedHeader = '', payload = '', signature = ''] = text.split('.');
  return { protectedHeader, payload, signature };
}

async function signFile(signer: LocalKeySigner, path: string, options?: FormatOptions): Promise<Buffer> {
  const plan = jwsSigner.hashPlan(signer, options);
  const output = await jwsSigner.sign(await hashArtifact(plan, path), signer, options);
  assert.equal(output.mediaType, 'application/jose');
  assert.equal(output.suffix, '.jws');
  return output.bytes;
}

interface JoseCase {
  readonly spec: KeySpec;
  readonly alg: string;
  readonly algorithm: string;
  readonly options?: FormatOptions;
  /** Expected signature length: RSA's modulus, or 2 × the curve's scalar for ES* (RFC 7518 §3.4). */
  readonly signatureBytes: number;
}

const JOSE_CASES: readonly JoseCase[] = [
  { spec: 'RSA_2048', alg: 'RS256', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', signatureBytes: 256 },
  { spec: 'RSA_3072', alg: 'PS384', algorithm: 'RSASSA_PSS_SHA_384', options: { algorithm: 'RSASSA_PSS_SHA_384' }, signatureBytes: 384 },
  { spec: 'EC_P256', alg: 'ES256', algorithm: 'ECDSA_SHA_256', signatureBytes: 64 },
  { spec: 'EC_P384', alg: 'ES384', algorithm: 'ECDSA_SHA_384', signatureBytes: 96 },
  { spec: 'EC_P521', alg: 'ES512', algorithm: 'ECDSA_SHA_512', signatureBytes: 132 },
];

describe('jwsSigner verified by jose', () => {
  for (const c of JOSE_CASES) {
    it(`${c.spec} ${c.alg}: flattenedVerify accepts the file as the detached payload, rejects a tampered one`, async () => {
      const signer = localKeySigner(c.spec);
      const { protectedHeader, payload, signature } = parts(await signFile(signer, artifactPath, c.options));
      assert.equal(payload, '');
      assert.equal(Buffer.from(signature, 'base64url').length, c.signatureBytes);
      assert.deepEqual(signer.calls, [{ algorithm: c.algorithm, input: 'digest' }]);
      const key = await importSPKI(signer.publicKeyPem, c.alg);
      const verified = await flattenedVerify({ protected: protectedHeader, payload: artifact, signature }, key, { algorithms: [c.alg] });
      assert.deepEqual(verified.protectedHeader, { alg: c.alg, b64: false, crit: ['b64'], kid: signer.keyId });
      await assert.rejects(flattenedVerify({ protected: protectedHeader, payload: tampered, signature }, key, { algorithms: [c.alg] }),
        joseRejectsWith('ERR_JWS_SIGNATURE_VERIFICATION_FAILED'));
    });
  }

  it('an ASCII artifact re-attached to the compact form passes compactVerify', async () => {
    // Compact Serialization can carry an unencoded payload only if it is ASCII without '.' (RFC 7797 §5.2).
    const text = Buffer.from('release-notes v1 2 3 - no dots here\n'.repeat(100), 'ascii');
    const signer = localKeySigner('EC_P256');
    const { protectedHeader, signature } = parts(await signFile(signer, scratch.write(text, 'notes.txt')));
    const key = await importSPKI(signer.publicKeyPem, 'ES256');
    const verified = await compactVerify(`${protectedHeader}.${text.toString('ascii')}.${signature}`, key);
    assert.deepEqual(Buffer.from(verified.payload), text);
  });
});

describe('jwsSigner protected header', () => {
  it('is exactly {alg, b64:false, crit:[b64], kid}, and the hash plan prefix is its encoding and a dot', async () => {
    const signer = localKeySigner('EC_P256');
    const plan = jwsSigner.hashPlan(signer);
    const expected = `{"alg":"ES256","b64":false,"crit":["b64"],"kid":${JSON.stringify(signer.keyId)}}`;
    assert.equal(plan.hash, 'SHA-256');
    assert.equal(plan.prefix?.toString('ascii'), `${Buffer.from(expected).toString('base64url')}.`);
    // Deterministic: a second plan and the signed output carry the very same header.
    assert.deepEqual(jwsSigner.hashPlan(signer), plan);
    const { protectedHeader } = parts(await signFile(signer, artifactPath));
    assert.equal(Buffer.from(protectedHeader, 'base64url').toString('utf8'), expected);
  });

  it('carries metadata as sorted string claims under "coffer", whatever the order given', async () => {
    const signer = localKeySigner('RSA_2048');
    const one = jwsSigner.hashPlan(signer, { metadata: { project: 'p', build: '42' } });
    const other = jwsSigner.hashPlan(signer, { metadata: { build: '42', project: 'p' } });
    assert.deepEqual(one.prefix, other.prefix);
    const header = Buffer.from(one.prefix?.toString('ascii').slice(0, -1) ?? '', 'base64url').toString('utf8');
    assert.equal(header, `{"alg":"RS256","b64":false,"crit":["b64"],"kid":${JSON.stringify(signer.keyId)},"coffer":{"build":"42","project":"p"}}`);
    assert.deepEqual(jwsSigner.hashPlan(signer, { metadata: {} }), jwsSigner.hashPlan(signer));
    // The signed header is the planned one: jose verifies against the hashed prefix.
    const options = { metadata: { project: 'p', build: '42' } };
    const { protectedHeader, signature } = parts(await signFile(signer, artifactPath, options));
    const verified = await flattenedVerify({ protected: protectedHeader, payload: artifact, signature }, await importSPKI(signer.publicKeyPem, 'RS256'));
    assert.deepEqual(verified.protectedHeader?.['coffer'], { build: '42', project: 'p' });
  });

  it('a metadata value that is not a string is INVALID_ARGUMENT', () => {
    const metadata = JSON.parse('{"build":42}') as Record<string, string>;
    assert.throws(() => jwsSigner.hashPlan(localKeySigner('EC_P256'), { metadata }), rejectsWith('INVALID_ARGUMENT'));
  });
});

describe('jwsSigner refusals', () => {
  for (const spec of ['ED25519', 'ML_DSA_44', 'EC_SECP256K1'] as const) {
    it(`${spec} is INCOMPATIBLE_ALGORITHM`, async () => {
      const signer = localKeySigner(spec);
      assert.throws(() => jwsSigner.hashPlan(signer), rejectsWith('INCOMPATIBLE_ALGORITHM'));
      const digest = createHash('sha512').update(artifact).digest();
      await assert.rejects(jwsSigner.sign({ hash: 'SHA-512', digest, size: artifact.length }, signer), rejectsWith('INCOMPATIBLE_ALGORITHM'));
      assert.deepEqual(signer.calls, []);
    });
  }

  it('an algorithm the key cannot use is INCOMPATIBLE_ALGORITHM', () => {
    assert.throws(() => jwsSigner.hashPlan(localKeySigner('EC_P256'), { algorithm: 'RSASSA_PSS_SHA_256' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.throws(() => jwsSigner.hashPlan(localKeySigner('RSA_2048'), { algorithm: 'ED25519' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
  });

  it('a digest of the wrong length or hash is INVALID_DIGEST, before the module is asked', async () => {
    const signer = localKeySigner('RSA_3072');
    const options = { algorithm: 'RSASSA_PSS_SHA_384' };
    await assert.rejects(jwsSigner.sign({ hash: 'SHA-384', digest: randomBytes(32), size: 1 }, signer, options), rejectsWith('INVALID_DIGEST'));
    await assert.rejects(jwsSigner.sign({ hash: 'SHA-256', digest: randomBytes(32), size: 1 }, signer, options), rejectsWith('INVALID_DIGEST'));
    assert.deepEqual(signer.calls, []);
  });
});
