import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ContentInfo, SignedData, id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo } from '@peculiar/asn1-tsp';
import { isCofferError, type ErrorCode } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import { openssl, tempDir } from '../../../pki/pki-test-kit.ts';
import { localSigner } from '../../../pki/x509/local-signer-test-kit.ts';
import { localKeySigner, pkiSignerOf } from '../local-key-signer-test-kit.ts';
import { AUTHENTICODE_MEDIA_TYPE, authenticodeSigner, hashPeImage, parsePeLayout, type AuthenticodeOptions } from './index.ts';
import { AuthenticodeImageHasher } from './image-hash.ts';
import { peChecksum } from './pe-checksum.ts';
import { buildPe, osslsigncode, PE_OFFSETS } from './pe-test-kit.ts';
import { ID_SPC_INDIRECT_DATA, ID_SPC_RFC3161_TIME_STAMP, ID_SPC_SP_OPUS_INFO, ID_SPC_STATEMENT_TYPE, SpcIndirectDataContent } from './spc-structures.ts';
import { certifiedKey, issueChain, localTsa, SHA256_OID, type LocalTsa } from '../certified-key-test-kit.ts';

const DIGEST_OIDS: Readonly<Record<string, string>> = { sha256: SHA256_OID, sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };
const DAY_MS = 86_400_000;




async function assertCode(run: () => unknown, code: ErrorCode): Promise<void> {
  await assert.rejects(async () => { await run(); }, (error: unknown) => isCofferError(error, code));
}

/** A PE with random code and, by default, a 3-byte overlay so the image is not 8-byte aligned. */
function writePe(dir: string, name: string, pe32plus: boolean, overlay = Buffer.from([1, 2, 3])): string {
  const path = join(dir, name);
  writeFileSync(path, buildPe({ pe32plus, code: randomBytes(1500), overlay }));
  return path;
}

async function verify(dir: string, file: string, extra: readonly string[] = []): Promise<{ status: number; output: string }> {
  const result = await osslsigncode(['verify', '-in', file, '-CAfile', 'root.pem', ...extra], dir);
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

interface ReadAuthenticode {
  readonly entryOffset: number;
  readonly entryLength: number;
  readonly signedData: SignedData;
  readonly content: SpcIndirectDataContent;
  readonly contentDer: Buffer;
  readonly signedAttributes: ReadonlyMap<string, Buffer>;
}

/** Reads the one WIN_CERTIFICATE and its SignedData back out of a signed PE. */
function readAuthenticode(signed: Buffer, pe32plus: boolean): ReadAuthenticode {
  const entry = PE_OFFSETS.certificateEntry(pe32plus);
  const entryOffset = signed.readUInt32LE(entry);
  const entryLength = signed.readUInt32LE(entry + 4);
  assert.equal(entryOffset % 8, 0, 'WIN_CERTIFICATE is quadword aligned');
  assert.equal(entryOffset + entryLength, signed.length, 'the table ends the file');
  assert.equal(entryLength % 8, 0);
  assert.equal(signed.readUInt32LE(entryOffset), entryLength, 'dwLength');
  assert.equal(signed.readUInt16LE(entryOffset + 4), 0x0200, 'WIN_CERT_REVISION_2_0');
  assert.equal(signed.readUInt16LE(entryOffset + 6), 0x0002, 'WIN_CERT_TYPE_PKCS_SIGNED_DATA');
  const blob = signed.subarray(entryOffset + 8, entryOffset + entryLength);
  const contentInfo = AsnConvert.parse(blob, ContentInfo);
  assert.equal(contentInfo.contentType, id_signedData);
  const der = Buffer.from(AsnConvert.serialize(contentInfo));
  assert.ok(blob.subarray(der.length).equals(Buffer.alloc(blob.length - der.length)), 'zero padding after the DER');
  const signedData = AsnConvert.parse(contentInfo.content, SignedData);
  const contentDer = Buffer.from(signedData.encapContentInfo.eContent?.any ?? new ArrayBuffer(0));
  const content = AsnConvert.parse(contentDer, SpcIndirectDataContent);
  const signerInfo = signedData.signerInfos[0];
  assert.ok(signerInfo?.signedAttrs !== undefined);
  const signedAttributes = new Map(signerInfo.signedAttrs.map((attribute) => [attribute.attrType, Buffer.from(attribute.attrValues[0] ?? new ArrayBuffer(0))]));
  return { entryOffset, entryLength, signedData, content, contentDer, signedAttributes };
}

const CASES: readonly { spec: KeySpec; pe32plus: boolean; hash: string }[] = [
  { spec: 'RSA_2048', pe32plus: false, hash: 'sha256' },
  { spec: 'EC_P256', pe32plus: true, hash: 'sha256' },
  { spec: 'RSA_3072', pe32plus: true, hash: 'sha384' },
  { spec: 'EC_P384', pe32plus: false, hash: 'sha384' },
  { spec: 'RSA_4096', pe32plus: false, hash: 'sha512' },
];

for (const { spec, pe32plus, hash } of CASES) {
  describe(`authenticodeSigner with ${spec} on a ${pe32plus ? 'PE32+' : 'PE32'} image: osslsigncode verify accepts it`, () => {
    it('signs in place, verifies against the root, and fails once a section byte is flipped', async (t) => {
      const dir = tempDir(t);
      const { key, chain } = await certifiedKey(spec);
      writeFileSync(join(dir, 'root.pem'), chain.rootPem);
      const path = writePe(dir, 'app.exe', pe32plus);
      const original = readFileSync(path);
      assert.deepEqual(authenticodeSigner.hashPlan(key), { hash: { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' }[hash] });

      const output = await authenticodeSigner.signFile(path, key);
      assert.equal(output.mediaType, AUTHENTICODE_MEDIA_TYPE);
      assert.equal(output.suffix, '');
      assert.equal(output.algorithm, key.calls.at(-1)?.algorithm);
      assert.deepEqual(key.calls.map((call) => call.input), ['message', 'message'], 'the CSR, then the signed attributes: never the file');
      const signed = output.bytes;
      writeFileSync(join(dir, 'signed.exe'), signed);

      // Layout: the original bytes, zeros to 8, then the table; only the two header fields changed.
      const aligned = Math.ceil(original.length / 8) * 8;
      const read = readAuthenticode(signed, pe32plus);
      assert.equal(read.entryOffset, aligned);
      assert.ok(signed.subarray(original.length, aligned).equals(Buffer.alloc(aligned - original.length)));
      const unpatched = Buffer.from(signed.subarray(0, original.length));
      unpatched.fill(0, PE_OFFSETS.checksum, PE_OFFSETS.checksum + 4);
      unpatched.fill(0, PE_OFFSETS.certificateEntry(pe32plus), PE_OFFSETS.certificateEntry(pe32plus) + 8);
      assert.ok(unpatched.equals(original), 'nothing else in the image changed');
      assert.equal(signed.readUInt32LE(PE_OFFSETS.checksum), peChecksum(signed, PE_OFFSETS.checksum));
      assert.notEqual(signed.readUInt32LE(PE_OFFSETS.checksum), 0);

      // The structure Authenticode requires (signtool's and osslsigncode's).
      const { signedData, content, contentDer, signedAttributes } = read;
      assert.equal(signedData.version, 1, 'Authenticode SignedData is version 1');
      assert.equal(signedData.encapContentInfo.eContentType, ID_SPC_INDIRECT_DATA);
      assert.equal(content.data.type, '1.3.6.1.4.1.311.2.1.15');
      assert.equal(content.messageDigest.digestAlgorithm.algorithm, DIGEST_OIDS[hash]);
      const { digest: imageDigest } = await hashPeImage(join(dir, 'signed.exe'), output.algorithm.endsWith('512') ? 'SHA-512' : output.algorithm.endsWith('384') ? 'SHA-384' : 'SHA-256');
      assert.ok(Buffer.from(content.messageDigest.digest.buffer).equals(imageDigest), 'DigestInfo holds the image hash');
      assert.equal(signedAttributes.get('1.2.840.113549.1.9.3')?.toString('hex'), '060a2b060104018237020104', 'contentType spcIndirectDataContext');
      // messageDigest covers the SpcIndirectDataContent's contents octets, not its SEQUENCE header.
      const headerLength = (contentDer[1] ?? 0) < 0x80 ? 2 : 2 + ((contentDer[1] ?? 0) & 0x7f);
      const expected = createHash(hash).update(contentDer.subarray(headerLength)).digest();
      assert.ok(signedAttributes.get('1.2.840.113549.1.9.4')?.subarray(2).equals(expected));
      assert.equal(signedAttributes.get(ID_SPC_SP_OPUS_INFO)?.toString('hex'), '3000', 'an empty SpcSpOpusInfo');
      assert.equal(signedAttributes.get(ID_SPC_STATEMENT_TYPE)?.toString('hex'), '300c060a2b060104018237020115', 'individual code signing');
      assert.equal(signedData.certificates?.length, 2, 'the leaf and the root');

      const verified = await verify(dir, 'signed.exe');
      assert.equal(verified.status, 0, verified.output);
      assert.match(verified.output, /Signature verification: ok/);
      assert.match(verified.output, new RegExp(`Calculated message digest : ${imageDigest.toString('hex').toUpperCase()}`));
      assert.match(verified.output, new RegExp(`PE checksum\\s*: ${signed.readUInt32LE(PE_OFFSETS.checksum).toString(16).toUpperCase().padStart(8, '0')}`));
      assert.doesNotMatch(verified.output, /MISMATCH/i);

      const tampered = Buffer.from(signed);
      tampered[0x200 + 100] = (tampered[0x200 + 100] ?? 0) ^ 0x01;
      writeFileSync(join(dir, 'tampered.exe'), tampered);
      const refused = await verify(dir, 'tampered.exe');
      assert.notEqual(refused.status, 0);
      assert.doesNotMatch(refused.output, /Signature verification: ok/);
    });
  });
}

describe('the image hash', () => {
  it('is the same however the file is chunked, the skipped fields split across chunks or not', async (t) => {
    const dir = tempDir(t);
    const path = writePe(dir, 'app.exe', true);
    const bytes = readFileSync(path);
    const { layout, digest } = await hashPeImage(path, 'SHA-384');
    for (const size of [1, 2, 3, 5, 7, 64, 4096, bytes.length]) {
      const hasher = new AuthenticodeImageHasher(layout, 'SHA-384');
      for (let at = 0; at < bytes.length; at += size) hasher.update(bytes.subarray(at, at + size));
      assert.ok(hasher.digest().equals(digest), `chunks of ${size}`);
    }
    // By definition: the file without the CheckSum and Certificate Table entry, then zeros to 8 bytes.
    const checksum = PE_OFFSETS.checksum;
    const entry = PE_OFFSETS.certificateEntry(true);
    const expected = createHash('sha384').update(bytes.subarray(0, checksum)).update(bytes.subarray(checksum + 4, entry))
      .update(bytes.subarray(entry + 8)).update(Buffer.alloc(Math.ceil(bytes.length / 8) * 8 - bytes.length)).digest();
    assert.ok(digest.equals(expected));
    const short = new AuthenticodeImageHasher(layout, 'SHA-384');
    short.update(bytes.subarray(0, bytes.length - 1));
    assert.throws(() => short.digest(), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'), 'a file that shrank while read');
  });
});

describe('authenticodeSigner re-signing and interoperability', () => {
  it('re-signing a signed file replaces its signature (one signature, still verifying)', async (t) => {
    const dir = tempDir(t);
    const first = await certifiedKey('EC_P256');
    const second = await certifiedKey('RSA_2048');
    writeFileSync(join(dir, 'root.pem'), second.chain.rootPem);
    const path = writePe(dir, 'app.exe', true);
    const original = readFileSync(path);
    writeFileSync(join(dir, 'once.exe'), (await authenticodeSigner.signFile(path, first.key)).bytes);
    const twice = (await authenticodeSigner.signFile(join(dir, 'once.exe'), second.key)).bytes;
    writeFileSync(join(dir, 'twice.exe'), twice);
    const read = readAuthenticode(twice, true);
    assert.equal(read.entryOffset, Math.ceil(original.length / 8) * 8, 'the old table is gone: the new one starts where it started');
    assert.equal(read.signedData.signerInfos.length, 1);
    const verified = await verify(dir, 'twice.exe');
    assert.equal(verified.status, 0, verified.output);
    assert.match(verified.output, /Number of verified signatures: 1/);
    // The first signer's root no longer verifies anything in the file.
    writeFileSync(join(dir, 'root.pem'), first.chain.rootPem);
    assert.notEqual((await verify(dir, 'twice.exe')).status, 0);
  });

  it('hashes an unaligned image exactly as osslsigncode signs it, and re-signs a file osslsigncode signed', async (t) => {
    const dir = tempDir(t);
    // An openssl key and self-signed code-signing certificate for osslsigncode sign.
    const made = await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=osslsigncode test',
      '-addext', 'extendedKeyUsage=codeSigning', '-addext', 'keyUsage=digitalSignature'], dir);
    assert.equal(made.status, 0, made.stderr);
    for (const pe32plus of [false, true]) {
      const name = pe32plus ? 'pe32plus' : 'pe32';
      const path = writePe(dir, `${name}.exe`, pe32plus, Buffer.from([9, 8, 7, 6, 5]));
      const theirs = await osslsigncode(['sign', '-certs', 'other.pem', '-key', 'other.key', '-h', 'sha256', '-in', `${name}.exe`, '-out', `${name}-theirs.exe`], dir);
      assert.equal(theirs.status, 0, theirs.stdout + theirs.stderr);
      const ours = await hashPeImage(path, 'SHA-256');
      const signedByThem = readFileSync(join(dir, `${name}-theirs.exe`));
      assert.ok(Buffer.from(readAuthenticode(signedByThem, pe32plus).content.messageDigest.digest.buffer).equals(ours.digest), 'the same image hash, padding included');
      assert.ok((await hashPeImage(join(dir, `${name}-theirs.exe`), 'SHA-256')).digest.equals(ours.digest), 'and the same over their signed file');
      // osslsigncode's checksum over its own output agrees with ours.
      assert.equal(signedByThem.readUInt32LE(PE_OFFSETS.checksum), peChecksum(signedByThem, PE_OFFSETS.checksum));

      const { key, chain } = await certifiedKey('EC_P256');
      writeFileSync(join(dir, 'root.pem'), chain.rootPem);
      writeFileSync(join(dir, `${name}-resigned.exe`), (await authenticodeSigner.signFile(join(dir, `${name}-theirs.exe`), key)).bytes);
      const verified = await verify(dir, `${name}-resigned.exe`);
      assert.equal(verified.status, 0, verified.output);
      assert.match(verified.output, /Number of verified signatures: 1/);
    }
  });

  it('records metadata.programName and moreInfoUrl in SpcSpOpusInfo; refuses bad ones before reading the file', async (t) => {
    const dir = tempDir(t);
    const { key, chain } = await certifiedKey('EC_P256');
    writeFileSync(join(dir, 'root.pem'), chain.rootPem);
    const path = writePe(dir, 'app.exe', false);
    const output = await authenticodeSigner.signFile(path, key, { metadata: { programName: 'Coffer Test App', moreInfoUrl: 'https://example.com/app' } });
    writeFileSync(join(dir, 'signed.exe'), output.bytes);
    const verified = await verify(dir, 'signed.exe');
    assert.equal(verified.status, 0, verified.output);
    assert.match(verified.output, /Text description: Coffer Test App/);
    assert.match(verified.output, /URL description: https:\/\/example\.com\/app/);
    const calls = key.calls.length;
    await assertCode(() => authenticodeSigner.signFile(path, key, { metadata: { moreInfoUrl: 'javascript:alert(1)' } }), 'INVALID_ARGUMENT');
    await assertCode(() => authenticodeSigner.signFile(path, key, { metadata: { programName: 'x'.repeat(257) } }), 'INVALID_ARGUMENT');
    assert.throws(() => authenticodeSigner.hashPlan(key, { metadata: { moreInfoUrl: 'ftp://example.com' } }), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    assert.equal(key.calls.length, calls);
  });
});


/** A local TSA whose root is written to tsa-root.pem for osslsigncode's -TSA-CAfile. */
async function tsaFixture(dir: string): Promise<LocalTsa> {
  const tsa = await localTsa();
  writeFileSync(join(dir, 'tsa-root.pem'), tsa.chain.rootPem);
  return tsa;
}

describe('authenticodeSigner with a timeStamp option: the RFC 3161 counter-signature', () => {
  it('adds the token over the signature as 1.3.6.1.4.1.311.3.3.1; osslsigncode verifies it against the TSA root', async (t) => {
    const dir = tempDir(t);
    const { key, chain } = await certifiedKey('RSA_2048');
    writeFileSync(join(dir, 'root.pem'), chain.rootPem);
    const tsa = await tsaFixture(dir);
    const path = writePe(dir, 'app.exe', true);
    const options: AuthenticodeOptions = { timeStamp: tsa.stamp };
    const signed = (await authenticodeSigner.signFile(path, key, options)).bytes;
    writeFileSync(join(dir, 'signed.exe'), signed);

    const signerInfo = readAuthenticode(signed, true).signedData.signerInfos[0];
    assert.ok(signerInfo !== undefined);
    const signature = Buffer.from(signerInfo.signature.buffer);
    assert.equal(tsa.stamped.length, 1);
    assert.ok(tsa.stamped[0]?.equals(signature), 'the TSA stamped the SignerInfo signature value');
    assert.equal(signerInfo.unsignedAttrs?.length, 1);
    const attribute = signerInfo.unsignedAttrs[0];
    assert.equal(attribute?.attrType, ID_SPC_RFC3161_TIME_STAMP);
    const token = AsnConvert.parse(Buffer.from(attribute.attrValues[0] ?? new ArrayBuffer(0)), ContentInfo);
    const tstInfo = AsnConvert.parse(AsnConvert.parse(token.content, SignedData).encapContentInfo.eContent?.single?.buffer ?? new ArrayBuffer(0), TSTInfo);
    assert.ok(Buffer.from(tstInfo.messageImprint.hashedMessage.buffer).equals(createHash('sha256').update(signature).digest()));

    const verified = await verify(dir, 'signed.exe', ['-TSA-CAfile', 'tsa-root.pem']);
    assert.equal(verified.status, 0, verified.output);
    assert.match(verified.output, /Countersignatures:\s*\n\s*Timestamp time:/);
    assert.match(verified.output, /Timestamp Server Signature verification: ok/);
    assert.match(verified.output, /Signature verification: ok/);
    // Against another TSA root the counter-signature does not verify (osslsigncode then checks the
    // signer's chain at the current time instead and still exits 0, so its report is what is asserted).
    writeFileSync(join(dir, 'tsa-root.pem'), (await issueChain(localSigner('EC_P256'), 'timeStamping')).rootPem);
    const untrusted = await verify(dir, 'signed.exe', ['-TSA-CAfile', 'tsa-root.pem']);
    assert.match(untrusted.output, /Timestamp Server Signature verification: failed/);
    assert.doesNotMatch(untrusted.output, /Timestamp Server Signature verification: ok/);

    // A token over anything else is refused before it is embedded.
    const wrong: AuthenticodeOptions = { timeStamp: (value) => tsa.stamp(Buffer.concat([value, Buffer.from([0])])) };
    await assertCode(() => authenticodeSigner.signFile(path, key, wrong), 'INVALID_ARGUMENT');
  });
});

describe('authenticodeSigner refuses what cannot make a verifiable signature', () => {
  it('needs a certificate (INVALID_ARGUMENT), for the key (CERTIFICATE_KEY_MISMATCH), valid and for code signing (CERTIFICATE_INVALID)', async (t) => {
    const dir = tempDir(t);
    const path = writePe(dir, 'app.exe', false);
    const { key, chain } = await certifiedKey('EC_P256');
    const bare = localKeySigner('EC_P256');
    assert.throws(() => authenticodeSigner.hashPlan(bare), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assertCode(() => authenticodeSigner.signFile(path, bare), 'INVALID_ARGUMENT');
    await assertCode(() => authenticodeSigner.signFile(path, { ...bare, certificates: [] }), 'INVALID_ARGUMENT');
    await assertCode(() => authenticodeSigner.signFile(path, { ...bare, certificates: chain.ders }), 'CERTIFICATE_KEY_MISMATCH');
    await assertCode(() => authenticodeSigner.signFile(path, { ...key, certificates: [chain.ders[1], chain.ders[0]] }), 'CERTIFICATE_INVALID');
    const expired = await issueChain(pkiSignerOf(key), 'codeSigning', { now: new Date(Date.now() - 3 * DAY_MS), validityDays: 1 });
    await assertCode(() => authenticodeSigner.signFile(path, { ...key, certificates: expired.ders }), 'CERTIFICATE_INVALID');
    const timeStamping = await issueChain(pkiSignerOf(key), 'timeStamping');
    await assertCode(() => authenticodeSigner.signFile(path, { ...key, certificates: timeStamping.ders }), 'CERTIFICATE_INVALID');
    assert.equal(bare.calls.length, 0);
    const before = key.calls.length;
    assert.ok((await authenticodeSigner.signFile(path, key)).bytes.length > 0, 'the key with its own chain signs: the refusals were the certificates\' doing');
    assert.equal(key.calls.length, before + 1);
  });

  it('signs with RSA PKCS#1 v1.5 or ECDSA P-256/P-384 only (INCOMPATIBLE_ALGORITHM); the RSA hash may be chosen', async (t) => {
    const dir = tempDir(t);
    const path = writePe(dir, 'app.exe', false);
    const rsa = await certifiedKey('RSA_3072');
    writeFileSync(join(dir, 'root.pem'), rsa.chain.rootPem);
    assert.deepEqual(authenticodeSigner.hashPlan(rsa.key, { algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }), { hash: 'SHA-256' });
    const output = await authenticodeSigner.signFile(path, rsa.key, { algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' });
    assert.equal(output.algorithm, 'RSASSA_PKCS1_V1_5_SHA_256');
    writeFileSync(join(dir, 'signed.exe'), output.bytes);
    const verified = await verify(dir, 'signed.exe');
    assert.equal(verified.status, 0, verified.output);
    assert.match(verified.output, /Message digest algorithm {2}: SHA256/);

    assert.throws(() => authenticodeSigner.hashPlan(rsa.key, { algorithm: 'RSASSA_PSS_SHA_256' }), (error: unknown) => isCofferError(error, 'INCOMPATIBLE_ALGORITHM'));
    for (const spec of ['ED25519', 'EC_P521', 'EC_SECP256K1', 'ML_DSA_65'] as const) {
      // The algorithm is checked first: any certificate will do to show it.
      const key = { ...localKeySigner(spec), certificates: rsa.chain.ders };
      assert.throws(() => authenticodeSigner.hashPlan(key), (error: unknown) => isCofferError(error, 'INCOMPATIBLE_ALGORITHM'), spec);
      await assertCode(() => authenticodeSigner.signFile(path, key), 'INCOMPATIBLE_ALGORITHM');
    }
    assert.throws(() => authenticodeSigner.hashPlan({ ...rsa.key, spec: 'AES_256' }), (error: unknown) => isCofferError(error, 'KEY_USAGE_NOT_ALLOWED'));
  });

  it('sign() refuses (INVALID_ARGUMENT): the signature goes inside the file, through signFile', async () => {
    const { key } = await certifiedKey('EC_P256');
    assert.equal(authenticodeSigner.output, 'embedded');
    await assertCode(() => authenticodeSigner.sign(), 'INVALID_ARGUMENT');
    assert.equal(key.calls.length, 1, 'only the CSR was signed');
  });
});

describe('PE parsing of hostile input: INVALID_ARGUMENT, never a crash', () => {
  const valid = buildPe({ pe32plus: false, code: randomBytes(600) });
  const valid64 = buildPe({ pe32plus: true, code: randomBytes(600) });
  const parse = (bytes: Buffer) => parsePeLayout(bytes.subarray(0, 64 * 1024), bytes.length);
  const invalidArgument = (bytes: Buffer, what: string) => {
    assert.throws(() => parse(bytes), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'), what);
  };
  const patched = (base: Buffer, edit: (copy: Buffer) => void): Buffer => {
    const copy = Buffer.from(base);
    edit(copy);
    return copy;
  };

  it('reads a valid PE32 and PE32+ layout', () => {
    assert.deepEqual(parse(valid), { pe32plus: false, checksumOffset: PE_OFFSETS.checksum, certificateEntryOffset: PE_OFFSETS.certificateEntry(false), fileSize: valid.length, imageEnd: valid.length });
    assert.equal(parse(valid64).certificateEntryOffset, PE_OFFSETS.certificateEntry(true));
  });

  it('refuses truncated files at every length short of the last section', () => {
    for (let length = 0; length < valid.length; length++) invalidArgument(valid.subarray(0, length), `truncated to ${length}`);
  });

  it('refuses bad signatures, e_lfanew, optional headers and directory entries', () => {
    invalidArgument(patched(valid, (b) => b.write('ZM', 0, 'latin1')), 'no MZ');
    for (const lfanew of [0xffff_fff0, 0x1_0000, valid.length, valid.length - 4, 0x3c]) {
      invalidArgument(patched(valid, (b) => b.writeUInt32LE(lfanew, 0x3c)), `e_lfanew ${lfanew}`);
    }
    invalidArgument(patched(valid, (b) => b.write('PX', 0x80, 'latin1')), 'no PE signature');
    invalidArgument(patched(valid, (b) => b.writeUInt16LE(0x107, PE_OFFSETS.optionalHeader)), 'ROM image magic');
    invalidArgument(patched(valid, (b) => b.writeUInt16LE(100, PE_OFFSETS.sizeOfOptionalHeader)), 'optional header without directory 4');
    invalidArgument(patched(valid, (b) => b.writeUInt16LE(0xffff, PE_OFFSETS.sizeOfOptionalHeader)), 'optional header past the file');
    invalidArgument(patched(valid, (b) => b.writeUInt32LE(4, PE_OFFSETS.numberOfRvaAndSizes(false))), 'four data directories');
    invalidArgument(patched(valid, (b) => b.writeUInt16LE(0xffff, 0x80 + 6)), 'a section table past the headers');
    invalidArgument(patched(valid, (b) => b.writeUInt32LE(0xffff_0000, PE_OFFSETS.optionalHeader + 224 + 20)), 'a section past the end');
    const entry = PE_OFFSETS.certificateEntry(false);
    const table = (offset: number, size: number) => patched(valid, (b) => { b.writeUInt32LE(offset, entry); b.writeUInt32LE(size, entry + 4); });
    invalidArgument(table(valid.length, 16), 'table past the end');
    invalidArgument(table(0xffff_fff8, 0xffff_fff8), 'table far outside');
    invalidArgument(table(valid.length - 16, 8), 'table not at the end');
    invalidArgument(table(0x10, valid.length - 0x10), 'table over the headers');
    invalidArgument(table(valid.length - 4, 4), 'table shorter than a WIN_CERTIFICATE header');
    invalidArgument(table(0, 16), 'size without offset');
    const signed = patched(Buffer.concat([valid, Buffer.alloc(16)]), (b) => { b.writeUInt32LE(valid.length, entry); b.writeUInt32LE(16, entry + 4); });
    assert.equal(parse(signed).imageEnd, valid.length, 'a table ending the file is the old signature');
  });

  it('random header corruption yields a layout or INVALID_ARGUMENT, nothing else', () => {
    for (let i = 0; i < 3000; i++) {
      const base = i % 2 === 0 ? valid : valid64;
      const copy = Buffer.from(base.subarray(0, 0x200 + (i % 7 === 0 ? 600 : 0)));
      for (let flips = 0; flips < 1 + (i % 4); flips++) {
        const at = randomBytes(2).readUInt16LE() % 0x1a0;
        copy[at] = randomBytes(1)[0] ?? 0;
      }
      try {
        const layout = parse(copy);
        assert.ok(layout.imageEnd <= copy.length && layout.certificateEntryOffset + 8 <= copy.length && layout.checksumOffset + 4 <= copy.length);
      } catch (error) {
        assert.ok(isCofferError(error, 'INVALID_ARGUMENT'), String(error));
      }
    }
  });

  it('signFile refuses a non-PE file, a truncated PE and a directory entry outside the file before the module signs', async (t) => {
    const dir = tempDir(t);
    const { key } = await certifiedKey('EC_P256');
    const before = key.calls.length;
    writeFileSync(join(dir, 'text.exe'), 'not a program\n');
    await assertCode(() => authenticodeSigner.signFile(join(dir, 'text.exe'), key), 'INVALID_ARGUMENT');
    writeFileSync(join(dir, 'empty.exe'), Buffer.alloc(0));
    await assertCode(() => authenticodeSigner.signFile(join(dir, 'empty.exe'), key), 'INVALID_ARGUMENT');
    writeFileSync(join(dir, 'short.exe'), valid.subarray(0, 0x100));
    await assertCode(() => authenticodeSigner.signFile(join(dir, 'short.exe'), key), 'INVALID_ARGUMENT');
    writeFileSync(join(dir, 'outside.exe'), patched(valid, (b) => b.writeUInt32LE(0x7fff_0000, PE_OFFSETS.certificateEntry(false))));
    await assertCode(() => authenticodeSigner.signFile(join(dir, 'outside.exe'), key), 'INVALID_ARGUMENT');
    assert.equal(key.calls.length, before);
  });
});
