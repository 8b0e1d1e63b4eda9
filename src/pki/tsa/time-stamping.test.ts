import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { MessageImprint, PKIStatus, TSTInfo, TimeStampReq, TimeStampReqVersion, TimeStampResp } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier, Extension, Extensions, Time } from '@peculiar/asn1-x509';
import { isCofferError, type ErrorCode } from '../../core/errors.ts';
import type { KeySpec } from '../../core/key-record.ts';
import { encodePem } from '../pem-blocks.ts';
import { openssl, tempDir } from '../pki-test-kit.ts';
import { parseDistinguishedName } from '../x509/distinguished-names.ts';
import {
  EXTENDED_KEY_USAGES, authorityKeyIdentifierExtension, basicConstraintsExtension, extendedKeyUsageExtension, keyIdentifierOf,
  keyUsageExtension, subjectKeyIdentifierExtension, type KeyUsageName,
} from '../x509/extensions.ts';
import { localSigner, type LocalSigner } from '../x509/local-signer-test-kit.ts';
import { signCertificate } from '../x509/signed-structures.ts';
import {
  ID_SIGNING_CERTIFICATE_V2, MAX_TIME_STAMP_REQUEST_BYTES, SigningCertificateV2, checkTsaCertificate, failuresOf, readTimeStampRequest,
  timeStamp, type TimeStampAuthority, type TsaFailure,
} from './index.ts';

const POLICY = '1.3.6.1.4.1.99999.7.1';
const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const NOT_BEFORE = new Date('2020-01-01T00:00:00Z');
const NOT_AFTER = new Date(Date.now() + 365 * 86_400_000);
const SPECS: readonly KeySpec[] = ['RSA_2048', 'EC_P256', 'EC_P384', 'ED25519'];
const DIGESTS: Readonly<Record<string, string>> = { RSA_2048: 'sha256', EC_P256: 'sha256', EC_P384: 'sha384', ED25519: 'sha512' };

interface TsaFixture {
  readonly dir: string;
  readonly root: LocalSigner;
  readonly rootDer: Buffer;
  readonly signer: LocalSigner;
  readonly tsaDer: Buffer;
  readonly authority: TimeStampAuthority;
}

interface TsaCertificateOptions {
  readonly purposes?: readonly string[];
  readonly critical?: boolean;
  readonly keyUsage?: readonly KeyUsageName[];
  readonly notAfter?: Date;
}

async function tsaCertificate(root: LocalSigner, rootDer: Buffer, publicKeyDer: Buffer, options: TsaCertificateOptions = {}): Promise<Buffer> {
  const purposes = options.purposes ?? [EXTENDED_KEY_USAGES.timeStamping];
  const rootName = parseDistinguishedName('CN=Coffer test root, O=Coffer');
  assert.ok(rootDer.length > 0);
  return signCertificate(root, {
    serialNumber: new Uint8Array([0x42, 0x01, 0x02]),
    issuer: rootName.name,
    subject: parseDistinguishedName('CN=Coffer test TSA, O=Coffer').name,
    notBefore: NOT_BEFORE,
    notAfter: options.notAfter ?? NOT_AFTER,
    publicKeyDer,
    extensions: [
      basicConstraintsExtension(false),
      keyUsageExtension(options.keyUsage ?? ['digitalSignature']),
      ...(purposes.length === 0 ? [] : [extendedKeyUsageExtension(purposes, options.critical ?? true)]),
      subjectKeyIdentifierExtension(keyIdentifierOf(publicKeyDer)),
      authorityKeyIdentifierExtension(keyIdentifierOf(root.publicKeyDer)),
    ],
  });
}

/** A root CA and a TSA certificate issued by it, as PEM files in a fresh directory. */
async function fixture(t: { after: (cleanup: () => void) => unknown }, spec: KeySpec): Promise<TsaFixture> {
  const dir = tempDir(t);
  const root = localSigner(spec);
  const rootName = parseDistinguishedName('CN=Coffer test root, O=Coffer');
  const rootDer = await signCertificate(root, {
    serialNumber: new Uint8Array([0x01]),
    issuer: rootName.name,
    subject: rootName.name,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    publicKeyDer: root.publicKeyDer,
    extensions: [
      basicConstraintsExtension(true),
      keyUsageExtension(['keyCertSign', 'cRLSign']),
      subjectKeyIdentifierExtension(keyIdentifierOf(root.publicKeyDer)),
    ],
  });
  const signer = localSigner(spec);
  const tsaDer = await tsaCertificate(root, rootDer, signer.publicKeyDer);
  writeFileSync(join(dir, 'root.pem'), encodePem('CERTIFICATE', rootDer));
  writeFileSync(join(dir, 'tsa.pem'), encodePem('CERTIFICATE', tsaDer));
  writeFileSync(join(dir, 'data.txt'), `the document stamped with ${spec}\n`);
  writeFileSync(join(dir, 'other.txt'), 'another document\n');
  return { dir, root, rootDer, signer, tsaDer, authority: { certificateDer: tsaDer, chainDer: [rootDer], policy: POLICY } };
}

async function query(dir: string, name: string, args: readonly string[]): Promise<Buffer> {
  const result = await openssl(['ts', '-query', '-data', 'data.txt', ...args, '-out', name], dir);
  assert.equal(result.status, 0, result.stderr);
  return readFileSync(join(dir, name));
}

interface ReadReply {
  readonly response: TimeStampResp;
  readonly signedData?: SignedData;
  readonly tstInfo?: TSTInfo;
  readonly tstInfoDer?: Buffer;
}

/** Parses a reply with the asn1-tsp classes; the reply must be DER (it re-encodes to itself). */
function readReply(reply: Buffer): ReadReply {
  const response = AsnConvert.parse(reply, TimeStampResp);
  assert.ok(Buffer.from(AsnConvert.serialize(response)).equals(reply), 'the reply is DER');
  if (response.timeStampToken === undefined) return { response };
  const signedData = AsnConvert.parse(response.timeStampToken.content, SignedData);
  const single = signedData.encapContentInfo.eContent?.single;
  assert.ok(single !== undefined);
  const tstInfoDer = Buffer.from(single.buffer);
  return { response, signedData, tstInfo: AsnConvert.parse(tstInfoDer, TSTInfo), tstInfoDer };
}

function assertRejected(reply: Buffer, failure: TsaFailure): void {
  const { response } = readReply(reply);
  assert.equal(response.status.status, PKIStatus.rejection);
  assert.equal(response.timeStampToken, undefined);
  assert.ok(response.status.failInfo !== undefined);
  assert.deepEqual(failuresOf(response.status.failInfo), [failure]);
  assert.equal(response.status.statusString?.length, 1);
}

async function assertThrowsCode(run: () => unknown, code: ErrorCode): Promise<void> {
  await assert.rejects(async () => { await run(); }, (error: unknown) => isCofferError(error, code));
}

/** The extent of the DER element at `offset`: where its content starts and where it ends. */
function element(der: Buffer, offset: number): { start: number; end: number } {
  let length = der[offset + 1] ?? 0;
  let start = offset + 2;
  if (length > 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i += 1) length = length * 256 + (der[start + i] ?? 0);
    start += octets;
  }
  return { start, end: start + length };
}

/** The encodings of a constructed element's children, read straight from the bytes. */
function children(der: Buffer): Buffer[] {
  const { start, end } = element(der, 0);
  const found: Buffer[] = [];
  for (let offset = start; offset < end; offset = element(der, offset).end) found.push(der.subarray(offset, element(der, offset).end));
  return found;
}

function request(imprint: MessageImprint, extra: Partial<TimeStampReq> = {}): Buffer {
  return Buffer.from(AsnConvert.serialize(new TimeStampReq({ version: TimeStampReqVersion.v1, messageImprint: imprint, ...extra })));
}

function sha256Imprint(length = 32): MessageImprint {
  return new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256_OID }), hashedMessage: new OctetString(new Uint8Array(length).fill(7)) });
}

for (const spec of SPECS) {
  describe(`timeStamp with ${spec}: openssl accepts the reply`, () => {
    it('grants an openssl query with a nonce and certReq, and openssl ts -verify prints "Verification: OK"', async (t) => {
      const f = await fixture(t, spec);
      const now = new Date();
      const outcome = await timeStamp(f.signer, f.authority, await query(f.dir, 'q.tsq', ['-sha256', '-cert']), now);
      assert.equal(outcome.granted, true);
      assert.equal(outcome.failure, undefined);
      assert.equal(outcome.hash, 'SHA-256');
      assert.equal(outcome.hashedMessage, createHash('sha256').update(readFileSync(join(f.dir, 'data.txt'))).digest('hex'));
      assert.match(outcome.serialNumber ?? '', /^[4-7][0-9a-f]{31}$/);
      writeFileSync(join(f.dir, 'reply.tsr'), outcome.reply);

      const text = await openssl(['ts', '-reply', '-in', 'reply.tsr', '-text'], f.dir);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /Status: Granted\./);
      assert.match(text.stdout, new RegExp(`Policy OID: ${POLICY.replaceAll('.', '\\.')}\\n`));
      assert.match(text.stdout, /Hash Algorithm: sha256\n/);
      assert.match(text.stdout, new RegExp(`Serial number: 0x${(outcome.serialNumber ?? '').toUpperCase()}\\n`));
      assert.match(text.stdout, /Nonce: 0x[0-9A-F]+\n/);
      assert.match(text.stdout, /Accuracy: 0x01 seconds, unspecified millis/);
      assert.match(text.stdout, /TSA: DirName:.*CN *= *Coffer test TSA/);

      const verified = await openssl(['ts', '-verify', '-data', 'data.txt', '-in', 'reply.tsr', '-CAfile', 'root.pem', '-untrusted', 'tsa.pem'], f.dir);
      if (spec === 'ED25519' && /operation not supported for this keytype/.test(verified.stderr)) {
        // OpenSSL 3.0's TS and CMS code cannot verify Ed25519 signed attributes (PKCS7_signatureVerify
        // pre-hashes); the token is checked below with node:crypto and the certificate with openssl.
        t.diagnostic('openssl ts -verify does not support Ed25519 in this OpenSSL; checked with node:crypto instead');
        const purpose = await openssl(['verify', '-purpose', 'timestampsign', '-CAfile', 'root.pem', 'tsa.pem'], f.dir);
        assert.equal(purpose.status, 0, purpose.stderr);
      } else {
        assert.equal(verified.status, 0, verified.stderr);
        assert.match(verified.stdout, /Verification: OK/);
        const wrongData = await openssl(['ts', '-verify', '-data', 'other.txt', '-in', 'reply.tsr', '-CAfile', 'root.pem', '-untrusted', 'tsa.pem'], f.dir);
        assert.doesNotMatch(wrongData.stdout, /Verification: OK/);
      }
    });

    it('signs exactly the DER SET OF signed attributes: contentType, messageDigest, signingTime, signingCertificateV2', async (t) => {
      const f = await fixture(t, spec);
      const signed: Buffer[] = [];
      const signer: LocalSigner = { ...f.signer, sign: async (data, algorithm) => { signed.push(Buffer.from(data)); return f.signer.sign(data, algorithm); } };
      const now = new Date('2026-03-04T05:06:07.890Z');
      const outcome = await timeStamp(signer, f.authority, await query(f.dir, 'q.tsq', ['-sha256', '-cert']), now);
      const { signedData, tstInfo, tstInfoDer } = readReply(outcome.reply);
      assert.ok(signedData !== undefined && tstInfo !== undefined && tstInfoDer !== undefined);
      assert.equal(signedData.version, 3);
      assert.equal(signedData.encapContentInfo.eContentType, '1.2.840.113549.1.9.16.1.4');
      assert.equal(signedData.certificates?.length, 2, 'certReq brings the TSA certificate and its chain');
      assert.ok(Buffer.from(AsnConvert.serialize(signedData.certificates[0]?.certificate)).equals(f.tsaDer));
      assert.equal(signedData.signerInfos.length, 1);
      const signerInfo = signedData.signerInfos[0];
      assert.ok(signerInfo !== undefined && signerInfo.signedAttrs !== undefined);
      assert.equal(signerInfo.version, 1);
      assert.ok(signerInfo.sid.issuerAndSerialNumber !== undefined);
      assert.equal(Buffer.from(signerInfo.sid.issuerAndSerialNumber.serialNumber).toString('hex'), '420102');

      // RFC 5652 §5.4: the signature covers the [0] IMPLICIT attributes re-tagged as SET OF (0x31).
      // The reply re-encodes to itself (readReply), so the SignerInfo's encoding is the one sent.
      const attributesDer = Buffer.from(children(Buffer.from(AsnConvert.serialize(signerInfo)))[3] ?? Buffer.alloc(0));
      assert.equal(attributesDer[0], 0xa0);
      attributesDer[0] = 0x31;
      const order = children(attributesDer);
      assert.equal(order.length, 4);
      for (let i = 1; i < order.length; i += 1) assert.ok(Buffer.compare(order[i - 1] ?? Buffer.alloc(0), order[i] ?? Buffer.alloc(0)) < 0, 'X.690 §11.6: DER sorts SET OF');
      assert.equal(signed.length, 1);
      assert.ok(signed[0]?.equals(attributesDer));
      const key = createPublicKey({ key: f.signer.publicKeyDer, format: 'der', type: 'spki' });
      const digest = DIGESTS[spec] ?? 'none';
      assert.equal(signerInfo.digestAlgorithm.algorithm, { sha256: SHA256_OID, sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' }[digest]);
      assert.equal(signerInfo.digestAlgorithm.parameters, undefined);
      if (spec === 'ED25519') assert.equal(signerInfo.signatureAlgorithm.algorithm, '1.3.101.112');
      const signature = Buffer.from(signerInfo.signature.buffer);
      assert.equal(verify(spec === 'ED25519' ? null : digest, attributesDer, key, signature), true);
      attributesDer[attributesDer.length - 1] = (attributesDer.at(-1) ?? 0) ^ 1;
      assert.equal(verify(spec === 'ED25519' ? null : digest, attributesDer, key, signature), false);

      const values = new Map(signerInfo.signedAttrs.map((attribute) => [attribute.attrType, Buffer.from(attribute.attrValues[0] ?? new ArrayBuffer(0))]));
      assert.deepEqual([...values.keys()].sort(), ['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5']);
      assert.equal(values.get('1.2.840.113549.1.9.3')?.toString('hex'), '060b2a864886f70d0109100104');
      assert.ok(values.get('1.2.840.113549.1.9.4')?.subarray(2).equals(createHash(digest).update(tstInfoDer).digest()));
      assert.equal(AsnConvert.parse(values.get('1.2.840.113549.1.9.5') ?? Buffer.alloc(0), Time).getTime().toISOString(), '2026-03-04T05:06:07.000Z');
      const ess = AsnConvert.parse(values.get(ID_SIGNING_CERTIFICATE_V2) ?? Buffer.alloc(0), SigningCertificateV2);
      assert.equal(ess.certs.length, 1);
      assert.equal(ess.certs[0]?.hashAlgorithm, undefined, 'SHA-256 is the DEFAULT and so omitted');
      assert.ok(Buffer.from(ess.certs[0]?.certHash.buffer ?? new ArrayBuffer(0)).equals(createHash('sha256').update(f.tsaDer).digest()));

      assert.equal(tstInfo.policy, POLICY);
      assert.equal(tstInfo.genTime.toISOString(), '2026-03-04T05:06:07.890Z');
      assert.equal(tstInfoDer.includes(Buffer.from('20260304050607.89Z')), true, 'GeneralizedTime keeps milliseconds without trailing zeros');
      assert.equal(tstInfo.accuracy?.seconds, 1);
      assert.equal(tstInfo.ordering, false);
    });
  });
}

describe('timeStamp: the options of a granted query', () => {
  it('omits certificates without certReq and echoes no nonce when none was sent; openssl still verifies with -untrusted', async (t) => {
    const f = await fixture(t, 'EC_P256');
    const outcome = await timeStamp(f.signer, f.authority, await query(f.dir, 'q.tsq', ['-sha256', '-no_nonce']), new Date());
    const { signedData, tstInfo } = readReply(outcome.reply);
    assert.equal(signedData?.certificates, undefined);
    assert.equal(tstInfo?.nonce, undefined);
    writeFileSync(join(f.dir, 'reply.tsr'), outcome.reply);
    const verified = await openssl(['ts', '-verify', '-data', 'data.txt', '-in', 'reply.tsr', '-CAfile', 'root.pem', '-untrusted', 'tsa.pem'], f.dir);
    assert.match(verified.stdout, /Verification: OK/, verified.stderr);
    // Without the TSA certificate, the token (which lacks it) cannot be verified.
    const lacking = await openssl(['ts', '-verify', '-data', 'data.txt', '-in', 'reply.tsr', '-CAfile', 'root.pem'], f.dir);
    assert.doesNotMatch(lacking.stdout, /Verification: OK/);
  });

  it('stamps SHA-512 and SHA-384 imprints, copying the message imprint as sent', async (t) => {
    const f = await fixture(t, 'RSA_2048');
    for (const hash of ['sha512', 'sha384'] as const) {
      const tsq = await query(f.dir, 'q.tsq', [`-${hash}`, '-cert', '-tspolicy', POLICY]);
      const outcome = await timeStamp(f.signer, f.authority, tsq, new Date());
      assert.equal(outcome.granted, true);
      assert.equal(outcome.hash, hash === 'sha512' ? 'SHA-512' : 'SHA-384');
      const sent = AsnConvert.parse(tsq, TimeStampReq);
      assert.ok(Buffer.from(AsnConvert.serialize(readReply(outcome.reply).tstInfo?.messageImprint)).equals(Buffer.from(AsnConvert.serialize(sent.messageImprint))));
      writeFileSync(join(f.dir, 'reply.tsr'), outcome.reply);
      const verified = await openssl(['ts', '-verify', '-data', 'data.txt', '-in', 'reply.tsr', '-CAfile', 'root.pem', '-untrusted', 'tsa.pem'], f.dir);
      assert.match(verified.stdout, /Verification: OK/, verified.stderr);
    }
  });

  it('uses a given serial number, draws a fresh random one otherwise, and states the accuracy asked for', async (t) => {
    const f = await fixture(t, 'EC_P256');
    const tsq = await query(f.dir, 'q.tsq', ['-sha256']);
    const given = await timeStamp(f.signer, { ...f.authority, accuracyMs: 1500 }, tsq, new Date(), new Uint8Array([0x01, 0x02, 0x03]));
    assert.equal(given.serialNumber, '010203');
    const { tstInfo } = readReply(given.reply);
    assert.equal(Buffer.from(tstInfo?.serialNumber ?? new ArrayBuffer(0)).toString('hex'), '010203');
    assert.equal(tstInfo?.accuracy?.seconds, 1);
    assert.equal(tstInfo.accuracy.millis, 500);
    const subSecond = readReply((await timeStamp(f.signer, { ...f.authority, accuracyMs: 250 }, tsq, new Date())).reply).tstInfoDer;
    // Accuracy { millis [0] 250 }: a zero seconds field is omitted, not encoded as INTEGER 0.
    assert.equal(subSecond?.includes(Buffer.from('3004800200fa', 'hex')), true);
    const serials = new Set<string>();
    for (let i = 0; i < 8; i += 1) serials.add((await timeStamp(f.signer, f.authority, tsq, new Date())).serialNumber ?? '');
    assert.equal(serials.size, 8);
    for (const serial of serials) assert.match(serial, /^[4-7][0-9a-f]{31}$/);
  });

  it('refuses a bad configuration by throwing, whatever the query', async (t) => {
    const f = await fixture(t, 'EC_P256');
    const tsq = await query(f.dir, 'q.tsq', ['-sha256']);
    await assertThrowsCode(() => timeStamp(f.signer, { ...f.authority, policy: 'not an oid' }, tsq, new Date()), 'INVALID_ARGUMENT');
    await assertThrowsCode(() => timeStamp(f.signer, { ...f.authority, accuracyMs: 0 }, tsq, new Date()), 'INVALID_ARGUMENT');
    await assertThrowsCode(() => timeStamp(f.signer, { ...f.authority, accuracyMs: 1.5 }, tsq, new Date()), 'INVALID_ARGUMENT');
    await assertThrowsCode(() => timeStamp(f.signer, f.authority, tsq, new Date(), new Uint8Array([0x80, 0x01])), 'INVALID_ARGUMENT');
    await assertThrowsCode(() => timeStamp(f.signer, f.authority, tsq, new Date(), new Uint8Array([0x00, 0x01])), 'INVALID_ARGUMENT');
    await assertThrowsCode(() => timeStamp(f.signer, f.authority, tsq, new Date(), new Uint8Array(21).fill(1)), 'INVALID_ARGUMENT');
    await assertThrowsCode(() => timeStamp(f.signer, { ...f.authority, chainDer: [Buffer.from('not a certificate')] }, tsq, new Date()), 'CERTIFICATE_INVALID');
    await assertThrowsCode(() => timeStamp(localSigner('EC_P256'), f.authority, tsq, new Date()), 'CERTIFICATE_KEY_MISMATCH');
    await assertThrowsCode(() => timeStamp(f.signer, f.authority, tsq, new Date(NOT_AFTER.getTime() + 1000)), 'CERTIFICATE_INVALID');
    assert.equal(f.signer.calls.length, 0);
  });
});

describe('timeStamp: every refused query gets a rejection reply', () => {
  it('rejects with the RFC 3161 §2.4.2 failure bits that openssl prints, and never signs', async (t) => {
    const f = await fixture(t, 'EC_P256');
    const cases: readonly [string, Buffer, TsaFailure][] = [
      ['garbage', Buffer.from('certainly not DER'), 'badDataFormat'],
      ['empty', Buffer.alloc(0), 'badRequest'],
      ['oversized', Buffer.alloc(MAX_TIME_STAMP_REQUEST_BYTES + 1, 0x30), 'badRequest'],
      ['SHA-1', await query(f.dir, 'sha1.tsq', ['-sha1', '-no_nonce']), 'badAlg'],
      ['wrong policy', await query(f.dir, 'policy.tsq', ['-sha256', '-tspolicy', '1.2.3.4']), 'unacceptedPolicy'],
      ['short imprint', request(sha256Imprint(20)), 'badDataFormat'],
      ['long imprint', request(sha256Imprint(33)), 'badDataFormat'],
      ['extensions', request(sha256Imprint(), { extensions: new Extensions([new Extension({ extnID: '1.2.3.4', critical: false, extnValue: new OctetString(new Uint8Array([5, 0])) })]) }), 'unacceptedExtension'],
      ['33-octet nonce', request(sha256Imprint(), { nonce: new Uint8Array(33).fill(0x11).buffer }), 'badDataFormat'],
      ['version 2', Buffer.from(request(sha256Imprint()).toString('hex').replace(/^(30..)020101/, '$1020102'), 'hex'), 'badDataFormat'],
      ['trailing bytes', Buffer.concat([request(sha256Imprint()), Buffer.from([0x00])]), 'badDataFormat'],
      ['explicit certReq FALSE (BER, not DER)', Buffer.from(request(sha256Imprint()).toString('hex').replace(/^30(..)/, (_, length: string) => `30${(parseInt(length, 16) + 3).toString(16).padStart(2, '0')}`) + '010100', 'hex'), 'badDataFormat'],
      ['imprint parameters', request(new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256_OID, parameters: new Uint8Array([0x04, 0x00]).buffer }), hashedMessage: new OctetString(new Uint8Array(32)) })), 'badAlg'],
    ];
    for (const [what, bytes, failure] of cases) {
      const outcome = await timeStamp(f.signer, f.authority, bytes, new Date());
      assert.equal(outcome.granted, false, what);
      assert.equal(outcome.failure, failure, what);
      assert.equal(outcome.serialNumber, undefined, what);
      assertRejected(outcome.reply, failure);
    }
    assert.equal(f.signer.calls.length, 0, 'a rejection is never signed');

    const text = async (bytes: Buffer): Promise<string> => {
      writeFileSync(join(f.dir, 'rejected.tsr'), (await timeStamp(f.signer, f.authority, bytes, new Date())).reply);
      const printed = await openssl(['ts', '-reply', '-in', 'rejected.tsr', '-text'], f.dir);
      assert.equal(printed.status, 0, printed.stderr);
      assert.match(printed.stdout, /Status: Rejected\./);
      return printed.stdout;
    };
    assert.match(await text(await query(f.dir, 'sha1.tsq', ['-sha1'])), /Failure info: unrecognized or unsupported algorithm identifier\n/);
    assert.match(await text(Buffer.from('garbage')), /Failure info: the data submitted has the wrong format\n/);
    assert.match(await text(await query(f.dir, 'policy.tsq', ['-sha256', '-tspolicy', '1.2.3.4'])), /Failure info: the requested TSA policy is not supported by the TSA\n/);
  });

  it('grants a query that names the TSA policy, and reads a query without one as asking for it', async (t) => {
    const f = await fixture(t, 'EC_P384');
    assert.equal((await timeStamp(f.signer, f.authority, await query(f.dir, 'q.tsq', ['-sha256', '-tspolicy', POLICY]), new Date())).granted, true);
    const reading = readTimeStampRequest(await query(f.dir, 'q.tsq', ['-sha384', '-cert']));
    assert.ok(reading.ok);
    assert.equal(reading.query.policy, undefined);
    assert.equal(reading.query.certReq, true);
    assert.equal(reading.query.hash, 'SHA-384');
    assert.equal(reading.query.nonce?.length !== undefined && reading.query.nonce.length <= 9, true);
  });
});

describe('checkTsaCertificate', () => {
  it('accepts the TSA certificate for its own key only', async (t) => {
    const f = await fixture(t, 'EC_P256');
    assert.ok(checkTsaCertificate(f.tsaDer, f.signer.publicKeyDer, new Date()).der.equals(f.tsaDer));
    assert.throws(() => checkTsaCertificate(f.tsaDer, localSigner('EC_P256').publicKeyDer), (error: unknown) => isCofferError(error, 'CERTIFICATE_KEY_MISMATCH'));
    assert.throws(() => checkTsaCertificate(f.tsaDer, localSigner('RSA_2048').publicKeyDer), (error: unknown) => isCofferError(error, 'CERTIFICATE_KEY_MISMATCH'));
    assert.throws(() => checkTsaCertificate(f.rootDer, f.signer.publicKeyDer), (error: unknown) => isCofferError(error, 'CERTIFICATE_KEY_MISMATCH'));
    assert.throws(() => checkTsaCertificate(Buffer.from('no certificate'), f.signer.publicKeyDer), (error: unknown) => isCofferError(error, 'CERTIFICATE_INVALID'));
    const expired = await tsaCertificate(f.root, f.rootDer, f.signer.publicKeyDer, { notAfter: new Date(Date.now() - 1000) });
    assert.throws(() => checkTsaCertificate(expired, f.signer.publicKeyDer, new Date()), (error: unknown) => isCofferError(error, 'CERTIFICATE_INVALID'));
  });

  it('refuses a certificate without a critical extendedKeyUsage of exactly timeStamping (RFC 3161 §2.3)', async (t) => {
    const f = await fixture(t, 'EC_P256');
    const variants: readonly [string, TsaCertificateOptions][] = [
      ['no extendedKeyUsage', { purposes: [] }],
      ['non-critical', { critical: false }],
      ['timeStamping and codeSigning', { purposes: [EXTENDED_KEY_USAGES.timeStamping, EXTENDED_KEY_USAGES.codeSigning] }],
      ['codeSigning only', { purposes: [EXTENDED_KEY_USAGES.codeSigning] }],
      ['keyCertSign usage', { keyUsage: ['digitalSignature', 'keyCertSign'] }],
      ['keyEncipherment usage only', { keyUsage: ['keyEncipherment'] }],
    ];
    for (const [what, options] of variants) {
      const der = await tsaCertificate(f.root, f.rootDer, f.signer.publicKeyDer, options);
      assert.throws(() => checkTsaCertificate(der, f.signer.publicKeyDer), (error: unknown) => isCofferError(error, 'TSA_NOT_CONFIGURED'), what);
      await assertThrowsCode(() => timeStamp(f.signer, { ...f.authority, certificateDer: der }, Buffer.from('x'), new Date()), 'TSA_NOT_CONFIGURED');
    }
    const nonRepudiation = await tsaCertificate(f.root, f.rootDer, f.signer.publicKeyDer, { keyUsage: ['nonRepudiation'] });
    assert.ok(checkTsaCertificate(nonRepudiation, f.signer.publicKeyDer).der.equals(nonRepudiation));
  });
});
