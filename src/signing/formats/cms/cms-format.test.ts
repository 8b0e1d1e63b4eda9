import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ContentInfo, SignedData, type SignerInfo, id_data, id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo } from '@peculiar/asn1-tsp';
import { Time } from '@peculiar/asn1-x509';
import { isCofferError, type ErrorCode } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import { ID_AA_TIME_STAMP_TOKEN, ID_SIGNING_CERTIFICATE_V2, SigningCertificateV2 } from '../../../pki/cms/index.ts';
import { encodePem } from '../../../pki/pem-blocks.ts';
import { openssl, tempDir } from '../../../pki/pki-test-kit.ts';
import { localSigner } from '../../../pki/x509/local-signer-test-kit.ts';
import { hashArtifact } from '../../artifact-hash.ts';
import type { ArtifactDigest, KeySigner } from '../format-signer.ts';
import { localKeySigner, pkiSignerOf } from '../local-key-signer-test-kit.ts';
import { cmsSigner, type CmsOptions } from './index.ts';
import { certifiedKey, issueChain, localTsa, SHA256_OID, type Chain, type LocalTsa } from '../certified-key-test-kit.ts';

const DAY_MS = 86_400_000;
const DIGEST_OIDS: Readonly<Record<string, string>> = { sha256: SHA256_OID, sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };
/** The digest each spec's CMS signature uses: RSA and ECDSA by key size, SHA-512 for Ed25519 (RFC 8419 §3). */
const DIGESTS: Readonly<Partial<Record<KeySpec, string>>> = { RSA_2048: 'sha256', RSA_3072: 'sha384', EC_P256: 'sha256', EC_P384: 'sha384', ED25519: 'sha512' };
const OPENSSL_SPECS: readonly KeySpec[] = ['RSA_2048', 'RSA_3072', 'EC_P256', 'EC_P384'];




async function assertCode(run: () => unknown, code: ErrorCode): Promise<void> {
  await assert.rejects(async () => { await run(); }, (error: unknown) => isCofferError(error, code));
}

interface ReadSignature {
  readonly signedData: SignedData;
  readonly signerInfo: SignerInfo;
  /** The signed attributes as the key signed them: [0] IMPLICIT re-tagged as SET OF (RFC 5652 §5.4). */
  readonly signedAttributesDer: Buffer;
  readonly values: ReadonlyMap<string, Buffer>;
}

/** Parses a .p7s; it must be DER (re-encode to itself), so the re-encoded attributes are the signed bytes. */
function readSignature(p7s: Buffer): ReadSignature {
  const contentInfo = AsnConvert.parse(p7s, ContentInfo);
  assert.equal(contentInfo.contentType, id_signedData);
  assert.ok(Buffer.from(AsnConvert.serialize(contentInfo)).equals(p7s), 'the output is DER');
  const signedData = AsnConvert.parse(contentInfo.content, SignedData);
  assert.equal(signedData.signerInfos.length, 1);
  const signerInfo = signedData.signerInfos[0];
  assert.ok(signerInfo?.signedAttrs !== undefined);
  const attributes = signerInfo.signedAttrs.map((attribute) => Buffer.from(AsnConvert.serialize(attribute)));
  for (let i = 1; i < attributes.length; i += 1) assert.ok(Buffer.compare(attributes[i - 1] ?? Buffer.alloc(0), attributes[i] ?? Buffer.alloc(0)) < 0, 'X.690 §11.6: DER sorts SET OF');
  const body = Buffer.concat(attributes);
  const signedAttributesDer = Buffer.concat([Buffer.from([0x31]), derLength(body.length), body]);
  const values = new Map(signerInfo.signedAttrs.map((attribute) => [attribute.attrType, Buffer.from(attribute.attrValues[0] ?? new ArrayBuffer(0))]));
  return { signedData, signerInfo, signedAttributesDer, values };
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets = Buffer.from(length.toString(16).padStart(length > 0xff ? 4 : 2, '0'), 'hex');
  return Buffer.concat([Buffer.from([0x80 | octets.length]), octets]);
}

/** Writes the artifact, hashes it as the service would (streamed, under the format's plan), and signs it. */
async function signFile(dir: string, key: KeySigner, options?: CmsOptions): Promise<{ artifact: ArtifactDigest; p7s: Buffer }> {
  const path = join(dir, 'artifact.bin');
  writeFileSync(path, Buffer.concat([Buffer.from('a release artifact\n'), randomBytes(300_000)]));
  const plan = cmsSigner.hashPlan(key, options);
  assert.equal(plan.prefix, undefined);
  const artifact = await hashArtifact(plan, path);
  const output = await cmsSigner.sign(artifact, key, options);
  assert.equal(output.suffix, '.p7s');
  assert.equal(output.mediaType, 'application/pkcs7-signature');
  writeFileSync(join(dir, 'artifact.p7s'), output.bytes);
  return { artifact, p7s: output.bytes };
}

function cmsVerify(dir: string, content: string, caFile = 'root.pem'): Promise<{ status: number; stdout: string; stderr: string }> {
  return openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'artifact.p7s', '-content', content, '-CAfile', caFile, '-purpose', 'any', '-out', '/dev/null'], dir);
}

/** The structure every CMS signature must have, whatever the key; returns what was signed for further checks. */
function assertDetachedSignedData(p7s: Buffer, key: KeySigner, chain: Chain, artifact: ArtifactDigest, before: Date): ReadSignature {
  const read = readSignature(p7s);
  const { signedData, signerInfo, values } = read;
  const digest = DIGESTS[key.spec] ?? 'none';
  assert.equal(signedData.version, 1, 'RFC 5652 §5.1: id-data with v1 SignerInfos');
  assert.equal(signedData.encapContentInfo.eContentType, id_data);
  assert.equal(signedData.encapContentInfo.eContent, undefined, 'detached: no eContent');
  assert.deepEqual([...signedData.digestAlgorithms].map((algorithm) => algorithm.algorithm), [DIGEST_OIDS[digest]]);
  assert.ok(signedData.certificates !== undefined);
  const carried = [...signedData.certificates].map((choice) => Buffer.from(AsnConvert.serialize(choice.certificate)));
  assert.equal(carried.length, 2);
  assert.ok(carried[0]?.equals(chain.ders[0]) && carried[1]?.equals(chain.ders[1]), 'leaf then chain');

  assert.equal(signerInfo.version, 1);
  assert.ok(signerInfo.sid.issuerAndSerialNumber !== undefined);
  assert.equal(signerInfo.digestAlgorithm.algorithm, DIGEST_OIDS[digest]);
  assert.equal(signerInfo.unsignedAttrs, undefined);
  assert.deepEqual([...values.keys()].sort(), ['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5']);
  assert.equal(values.get('1.2.840.113549.1.9.3')?.toString('hex'), '06092a864886f70d010701', 'contentType id-data');
  assert.ok(values.get('1.2.840.113549.1.9.4')?.subarray(2).equals(artifact.digest), 'messageDigest is the artifact digest');
  const signingTime = AsnConvert.parse(values.get('1.2.840.113549.1.9.5') ?? Buffer.alloc(0), Time).getTime().getTime();
  assert.ok(signingTime >= Math.floor(before.getTime() / 1000) * 1000 && signingTime <= Date.now(), 'signingTime is now');
  const ess = AsnConvert.parse(values.get(ID_SIGNING_CERTIFICATE_V2) ?? Buffer.alloc(0), SigningCertificateV2);
  assert.ok(Buffer.from(ess.certs[0]?.certHash.buffer ?? new ArrayBuffer(0)).equals(createHash('sha256').update(chain.ders[0]).digest()));

  // The signature covers the DER SET OF signed attributes, as a message (Ed25519 pure, RFC 8419 §3).
  const publicKey = createPublicKey({ key: key.publicKeyDer, format: 'der', type: 'spki' });
  const signature = Buffer.from(signerInfo.signature.buffer);
  const hash = key.spec === 'ED25519' ? null : digest;
  assert.equal(verify(hash, read.signedAttributesDer, publicKey, signature), true);
  const altered = Buffer.from(read.signedAttributesDer);
  altered[altered.length - 1] = (altered.at(-1) ?? 0) ^ 1;
  assert.equal(verify(hash, altered, publicKey, signature), false);
  return read;
}

for (const spec of OPENSSL_SPECS) {
  describe(`cmsSigner with ${spec}: openssl cms -verify accepts the detached signature`, () => {
    it('verifies over the file against the root, and fails for a tampered file or another root', async (t) => {
      const dir = tempDir(t);
      const { key, chain } = await certifiedKey(spec);
      writeFileSync(join(dir, 'root.pem'), chain.rootPem);
      writeFileSync(join(dir, 'other-root.pem'), (await issueChain(localSigner('EC_P256'), 'codeSigning')).rootPem);
      const before = new Date();
      const { artifact, p7s } = await signFile(dir, key);
      assert.equal(artifact.hash, { sha256: 'SHA-256', sha384: 'SHA-384' }[DIGESTS[spec] ?? '']);
      assert.deepEqual(key.calls.map((call) => call.input), ['message', 'message'], 'the CSR, then the signed attributes: never the artifact');
      assertDetachedSignedData(p7s, key, chain, artifact, before);

      const verified = await cmsVerify(dir, 'artifact.bin');
      assert.equal(verified.status, 0, verified.stderr);
      assert.match(verified.stderr, /Verification successful/);

      const tampered = readFileSync(join(dir, 'artifact.bin'));
      tampered[1000] = (tampered[1000] ?? 0) ^ 0x01;
      writeFileSync(join(dir, 'tampered.bin'), tampered);
      const refused = await cmsVerify(dir, 'tampered.bin');
      assert.notEqual(refused.status, 0);
      assert.doesNotMatch(refused.stderr, /Verification successful/);
      const untrusted = await cmsVerify(dir, 'artifact.bin', 'other-root.pem');
      assert.notEqual(untrusted.status, 0);
      assert.doesNotMatch(untrusted.stderr, /Verification successful/);

      const printed = await openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'artifact.p7s'], dir);
      assert.equal(printed.status, 0, printed.stderr);
      assert.match(printed.stdout, /eContentType: pkcs7-data/);
      assert.match(printed.stdout, /eContent: <ABSENT>/);
      for (const name of ['contentType', 'signingTime', 'messageDigest', 'id-smime-aa-signingCertificateV2']) {
        assert.match(printed.stdout, new RegExp(`object: ${name} \\(`), name);
      }
      assert.match(printed.stdout, /unsignedAttrs:\s*<ABSENT>/);
    });
  });
}

describe('cmsSigner with ED25519 (OpenSSL 3.0 cannot verify Ed25519 CMS: checked with node:crypto)', () => {
  it('signs the signed attributes purely with id-Ed25519 and SHA-512 digests (RFC 8419)', async (t) => {
    const dir = tempDir(t);
    const { key, chain } = await certifiedKey('ED25519');
    const before = new Date();
    const { artifact, p7s } = await signFile(dir, key);
    assert.equal(artifact.hash, 'SHA-512');
    const { signerInfo } = assertDetachedSignedData(p7s, key, chain, artifact, before);
    assert.equal(signerInfo.signatureAlgorithm.algorithm, '1.3.101.112');
    assert.equal(signerInfo.signatureAlgorithm.parameters, undefined);
    assert.deepEqual(key.calls.at(-1), { algorithm: 'ED25519', input: 'message' });
    const printed = await openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'artifact.p7s'], dir);
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /ED25519/);
  });
});

/** A real Coffer TSA (RSA key, timeStamping certificate) answering over SHA-256 of the signature. */
async function tsaFixture(dir: string): Promise<LocalTsa> {
  const tsa = await localTsa();
  writeFileSync(join(dir, 'tsa-root.pem'), tsa.chain.rootPem);
  writeFileSync(join(dir, 'tsa.pem'), encodePem('CERTIFICATE', tsa.chain.ders[0]));
  return tsa;
}

describe('cmsSigner with a timeStamp option: an RFC 3161 token over the signature', () => {
  it('adds id-aa-timeStampToken as an unsigned attribute; openssl verifies both the signature and the token', async (t) => {
    const dir = tempDir(t);
    const { key, chain } = await certifiedKey('EC_P256');
    writeFileSync(join(dir, 'root.pem'), chain.rootPem);
    const tsa = await tsaFixture(dir);
    const { p7s } = await signFile(dir, key, { timeStamp: tsa.stamp });

    const { signerInfo } = readSignature(p7s);
    const signature = Buffer.from(signerInfo.signature.buffer);
    assert.equal(tsa.stamped.length, 1);
    assert.ok(tsa.stamped[0]?.equals(signature), 'the TSA was asked to stamp the SignerInfo signature value');
    assert.equal(signerInfo.unsignedAttrs?.length, 1);
    const attribute = signerInfo.unsignedAttrs[0];
    assert.equal(attribute?.attrType, ID_AA_TIME_STAMP_TOKEN);
    const tokenDer = Buffer.from(attribute.attrValues[0] ?? new ArrayBuffer(0));
    const tstInfoDer = AsnConvert.parse(AsnConvert.parse(tokenDer, ContentInfo).content, SignedData).encapContentInfo.eContent?.single?.buffer;
    const imprint = AsnConvert.parse(tstInfoDer ?? new ArrayBuffer(0), TSTInfo).messageImprint;
    assert.ok(Buffer.from(imprint.hashedMessage.buffer).equals(createHash('sha256').update(signature).digest()));

    const verified = await cmsVerify(dir, 'artifact.bin');
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stderr, /Verification successful/);
    const printed = await openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'artifact.p7s'], dir);
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /object: id-smime-aa-timeStampToken \(1\.2\.840\.113549\.1\.9\.16\.2\.14\)/);

    writeFileSync(join(dir, 'token.der'), tokenDer);
    const digest = createHash('sha256').update(signature).digest('hex');
    const tokenVerified = await openssl(['ts', '-verify', '-digest', digest, '-token_in', '-in', 'token.der', '-CAfile', 'tsa-root.pem'], dir);
    assert.equal(tokenVerified.status, 0, tokenVerified.stderr);
    assert.match(tokenVerified.stdout, /Verification: OK/);
    const otherDigest = createHash('sha256').update(Buffer.concat([signature, Buffer.from([0])])).digest('hex');
    const tokenRefused = await openssl(['ts', '-verify', '-digest', otherDigest, '-token_in', '-in', 'token.der', '-CAfile', 'tsa-root.pem'], dir);
    assert.doesNotMatch(tokenRefused.stdout, /Verification: OK/);
  });

  it('refuses a token that stamps something else, or is not a token: INVALID_ARGUMENT', async (t) => {
    const dir = tempDir(t);
    const { key } = await certifiedKey('EC_P256');
    const tsa = await tsaFixture(dir);
    const artifact: ArtifactDigest = { hash: 'SHA-256', digest: createHash('sha256').update('x').digest(), size: 1 };
    const wrongImprint: CmsOptions = { timeStamp: (signature) => tsa.stamp(Buffer.concat([signature, Buffer.from([0])])) };
    await assertCode(() => cmsSigner.sign(artifact, key, wrongImprint), 'INVALID_ARGUMENT');
    await assertCode(() => cmsSigner.sign(artifact, key, { timeStamp: () => Promise.resolve(Buffer.from('not a token')) }), 'INVALID_ARGUMENT');
    const trailing: CmsOptions = { timeStamp: async (signature) => Buffer.concat([await tsa.stamp(signature), Buffer.from([0])]) };
    await assertCode(() => cmsSigner.sign(artifact, key, trailing), 'INVALID_ARGUMENT');
    // The same key and artifact with an honest TSA: the refusals above were the tokens' doing.
    assert.ok((await cmsSigner.sign(artifact, key, { timeStamp: tsa.stamp })).bytes.length > 0);
  });
});

describe('cmsSigner refuses what cannot make a verifiable signature, before the module signs', () => {
  const artifactFor = (hash: 'SHA-256' | 'SHA-384', bytes = hash === 'SHA-256' ? 32 : 48): ArtifactDigest => ({ hash, digest: randomBytes(bytes), size: 10 });

  it('needs certificates (INVALID_ARGUMENT) for the signing key (CERTIFICATE_KEY_MISMATCH), in order and valid (CERTIFICATE_INVALID)', async () => {
    const { key, chain } = await certifiedKey('EC_P256');
    const bare = localKeySigner('EC_P256');
    assert.throws(() => cmsSigner.hashPlan(bare), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-256'), bare), 'INVALID_ARGUMENT');
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-256'), { ...bare, certificates: [] }), 'INVALID_ARGUMENT');
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-256'), { ...bare, certificates: chain.ders }), 'CERTIFICATE_KEY_MISMATCH');
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-256'), { ...key, certificates: [chain.ders[1], chain.ders[0]] }), 'CERTIFICATE_INVALID');
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-256'), { ...key, certificates: [Buffer.from('not a certificate')] }), 'CERTIFICATE_INVALID');
    const expired = await issueChain(pkiSignerOf(key), 'codeSigning', { now: new Date(Date.now() - 3 * DAY_MS), validityDays: 1 });
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-256'), { ...key, certificates: expired.ders }), 'CERTIFICATE_INVALID');
    assert.equal(bare.calls.length, 0);
    const csrSignatures = key.calls.length;
    // The same artifact with the key's own valid chain signs: each refusal above was the certificates' doing.
    assert.ok((await cmsSigner.sign(artifactFor('SHA-256'), key)).bytes.length > 0);
    assert.equal(key.calls.length, csrSignatures + 1);
  });

  it('signs only a digest made under its plan (INVALID_DIGEST) with the spec\'s one CMS algorithm (INCOMPATIBLE_ALGORITHM)', async () => {
    const { key } = await certifiedKey('RSA_3072');
    assert.deepEqual(cmsSigner.hashPlan(key), { hash: 'SHA-384' });
    assert.deepEqual(cmsSigner.hashPlan(key, { algorithm: 'RSASSA_PKCS1_V1_5_SHA_384' }), { hash: 'SHA-384' });
    assert.throws(() => cmsSigner.hashPlan(key, { algorithm: 'RSASSA_PSS_SHA_384' }), (error: unknown) => isCofferError(error, 'INCOMPATIBLE_ALGORITHM'));
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-384'), key, { algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }), 'INCOMPATIBLE_ALGORITHM');
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-256'), key), 'INVALID_DIGEST');
    await assertCode(() => cmsSigner.sign(artifactFor('SHA-384', 32), key), 'INVALID_DIGEST');
    assert.throws(() => cmsSigner.hashPlan({ ...key, spec: 'AES_256' }), (error: unknown) => isCofferError(error, 'KEY_USAGE_NOT_ALLOWED'));
    const csrSignatures = key.calls.length;
    assert.ok((await cmsSigner.sign(artifactFor('SHA-384'), key)).bytes.length > 0);
    assert.equal(key.calls.length, csrSignatures + 1);
  });
});
