// The time-stamp query builder (read back by openssl, byte for byte against openssl's own query), the
// reply check against the query, and what TsaApi.stamp sends and returns (over a recording transport).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CMSVersion, EncapsulatedContent, EncapsulatedContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { PKIStatus, PKIStatusInfo, TSTInfo, TimeStampReq, TimeStampResp, TimeStampToken } from '@peculiar/asn1-tsp';
import { isCofferError, type ErrorCode } from '../core/errors.ts';
import { openssl, tempDir } from '../pki/pki-test-kit.ts';
import { buildTimeStampQuery, checkTimeStampReply, TsaApi } from './tsa-api.ts';
import { recordingTransport } from './recording-transport-test-kit.ts';

const DATA = Buffer.from('the release to stamp\n');
const KEY_ID = '3f2a8c1e-5b7d-4e9f-a1c3-0d2e4f6a8b9c';

function throwsCode(run: () => unknown, code: ErrorCode): void {
  assert.throws(run, (error: unknown) => isCofferError(error, code));
}

async function opensslText(dir: string, der: Buffer): Promise<string> {
  writeFileSync(join(dir, 'q.tsq'), der);
  const result = await openssl(['ts', '-query', '-in', 'q.tsq', '-text'], dir);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

/** openssl prints the imprint as "xx xx xx … - ascii" rows; their hex, joined. */
function printedImprint(text: string): string {
  const block = text.slice(text.indexOf('Message data:'), text.indexOf('Policy OID:'));
  return [...block.matchAll(/^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){0,16})/gm)].map((m) => (m[1] ?? '').replace(/[ -]/g, '')).join('');
}

/** A granted reply with an (unsigned) token whose TSTInfo holds these fields: enough for the binding check. */
function replyWith(fields: { imprintOf: Buffer; nonce?: ArrayBuffer }): Buffer {
  const query = AsnConvert.parse(fields.imprintOf, TimeStampReq);
  const tstInfo = new TSTInfo({
    policy: '1.3.6.1.4.1.99999.7.1', messageImprint: query.messageImprint, serialNumber: new Uint8Array([1, 2, 3]).buffer, genTime: new Date(),
    ...(fields.nonce === undefined ? {} : { nonce: fields.nonce }),
  });
  const signedData = new SignedData({
    version: CMSVersion.v3,
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: '1.2.840.113549.1.9.16.1.4',
      eContent: new EncapsulatedContent({ single: new OctetString(AsnConvert.serialize(tstInfo)) }),
    }),
  });
  const token = new TimeStampToken({ contentType: '1.2.840.113549.1.7.2', content: AsnConvert.serialize(signedData) });
  return Buffer.from(AsnConvert.serialize(new TimeStampResp({ status: new PKIStatusInfo({ status: PKIStatus.granted }), timeStampToken: token })));
}

describe('buildTimeStampQuery', () => {
  it('builds a query openssl reads, with the SHA-256 digest of the data, a nonce and certReq', async (t) => {
    const dir = tempDir(t);
    const text = await opensslText(dir, buildTimeStampQuery({ data: DATA }));
    assert.match(text, /Hash Algorithm: sha256/);
    assert.equal(printedImprint(text), createHash('sha256').update(DATA).digest('hex'));
    assert.match(text, /Nonce: 0x[0-9A-F]{16}\b/);
    assert.match(text, /Certificate required: yes/);
    assert.match(text, /Policy OID: unspecified/);
  });

  it('is byte for byte the query openssl ts -query makes for the same options', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'data.bin'), DATA);
    for (const [hash, flag] of [['SHA-256', '-sha256'], ['SHA-384', '-sha384'], ['SHA-512', '-sha512']] as const) {
      const made = await openssl(['ts', '-query', '-data', 'data.bin', flag, '-no_nonce', '-cert', '-out', 'theirs.tsq'], dir);
      assert.equal(made.status, 0, made.stderr);
      const ours = buildTimeStampQuery({ data: DATA }, { hash, nonce: false });
      assert.ok(ours.equals(readFileSync(join(dir, 'theirs.tsq'))), hash);
    }
  });

  it('takes a digest, and leaves out the nonce and certReq, and asks for a policy, when told', async (t) => {
    const dir = tempDir(t);
    const digest = createHash('sha512').update(DATA).digest();
    const text = await opensslText(dir, buildTimeStampQuery({ digest }, { hash: 'SHA-512', nonce: false, certReq: false, policy: '1.2.3.4.5' }));
    assert.match(text, /Hash Algorithm: sha512/);
    assert.equal(printedImprint(text), digest.toString('hex'));
    assert.match(text, /Nonce: unspecified/);
    assert.match(text, /Certificate required: no/);
    assert.match(text, /Policy OID: 1\.2\.3\.4\.5/);
  });

  it('draws a fresh positive 8-octet nonce each time', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 50; i += 1) {
      const nonce = AsnConvert.parse(buildTimeStampQuery({ data: DATA }), TimeStampReq).nonce;
      assert.ok(nonce !== undefined);
      const bytes = Buffer.from(nonce);
      assert.equal(bytes.length, 8);
      assert.ok((bytes[0] ?? 0) > 0 && (bytes[0] ?? 0) < 0x80, 'positive and minimally encoded');
      nonces.add(bytes.toString('hex'));
    }
    assert.equal(nonces.size, 50);
  });

  it('refuses a digest of the wrong length, an unknown hash and a malformed policy', () => {
    throwsCode(() => buildTimeStampQuery({ digest: new Uint8Array(32) }, { hash: 'SHA-384' }), 'INVALID_DIGEST');
    throwsCode(() => buildTimeStampQuery({ data: DATA }, { hash: 'SHA-1' as 'SHA-256' }), 'UNSUPPORTED_ALGORITHM');
    throwsCode(() => buildTimeStampQuery({ data: DATA }, { policy: 'not an oid' }), 'INVALID_ARGUMENT');
  });
});

describe('checkTimeStampReply', () => {
  it('accepts a token for the query, and refuses one for another imprint or without the nonce', () => {
    const query = buildTimeStampQuery({ data: DATA });
    const nonce = AsnConvert.parse(query, TimeStampReq).nonce;
    checkTimeStampReply(query, replyWith({ imprintOf: query, ...(nonce === undefined ? {} : { nonce }) }));
    const other = buildTimeStampQuery({ data: 'another document' });
    throwsCode(() => { checkTimeStampReply(query, replyWith({ imprintOf: other, ...(nonce === undefined ? {} : { nonce }) })); }, 'CLIENT_PROTOCOL_ERROR');
    throwsCode(() => { checkTimeStampReply(query, replyWith({ imprintOf: query })); }, 'CLIENT_PROTOCOL_ERROR');
    throwsCode(() => { checkTimeStampReply(query, replyWith({ imprintOf: query, nonce: new Uint8Array([1]).buffer })); }, 'CLIENT_PROTOCOL_ERROR');
    throwsCode(() => { checkTimeStampReply(query, Buffer.from('not DER')); }, 'CLIENT_PROTOCOL_ERROR');
  });
});

describe('TsaApi.stamp', () => {
  it('sends the key as text and the query as base64, idempotent, and decodes a checked reply', async () => {
    const query = buildTimeStampQuery({ data: DATA }, { nonce: false });
    const reply = replyWith({ imprintOf: query });
    const http = recordingTransport([{ reply: reply.toString('base64'), granted: true, status: 0, serialNumber: '010203' }]);
    const result = await new TsaApi(http).stamp({ project: 'acme', name: 'tsa' }, query);
    assert.deepEqual(http.sent, [{ method: 'POST', path: '/v1/tsa/stamp', options: { body: { key: 'acme/tsa', query: query.toString('base64') }, idempotent: true } }]);
    assert.ok(result.reply.equals(reply));
    assert.equal(result.granted, true);
    assert.equal(result.serialNumber, '010203');
  });

  it('returns a rejection as an answer, and refuses a granted reply for another query', async () => {
    const query = buildTimeStampQuery({ data: DATA });
    const rejected = await new TsaApi(recordingTransport([{ reply: 'MAA=', granted: false, status: 2, failure: 'badAlg' }])).stamp(KEY_ID, query);
    assert.equal(rejected.granted, false);
    assert.equal(rejected.failure, 'badAlg');
    const stranger = replyWith({ imprintOf: buildTimeStampQuery({ data: 'other' }, { nonce: false }) });
    await assert.rejects(new TsaApi(recordingTransport([{ reply: stranger.toString('base64'), granted: true, status: 0 }])).stamp(KEY_ID, query), (error: unknown) => isCofferError(error, 'CLIENT_PROTOCOL_ERROR'));
    await assert.rejects(new TsaApi(recordingTransport([{ granted: 'yes' }])).stamp(KEY_ID, query), (error: unknown) => isCofferError(error, 'CLIENT_PROTOCOL_ERROR'));
  });
});
