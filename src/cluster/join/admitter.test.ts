// The admitter's certify hook: called for a request with a CSR only, its chain lands in the answer,
// and a failing hook still admits, audited FAILED with its code; malformed csr fields are removed.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCustodianKeyPair } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { AuditEvent } from '../../core/ports.ts';
import { fixture, officer, type Fixture } from '../attestation/attestation-test-kit.ts';
import { JoinTokenProvider } from '../attestation/index.ts';
import { Admitter, type CertifyHook, type CertifyRequest, type NodeCertificate } from './admitter.ts';
import { decodeJoinRequest, encodeJoinRequest, JOIN_REQUEST_PREFIX, MAX_JOIN_CSR_CHARS, newJoinRequest, type JoinRequestRecord } from './join-request.ts';
import { joinCluster, joinTokenEvidence } from './joiner.ts';

// The admitter never parses the CSR (the hook does): any bounded PEM-like text stands in for one here.
const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIBfake\n-----END CERTIFICATE REQUEST-----\n';
const CHAIN = '-----BEGIN CERTIFICATE-----\nMIIleaf\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIroot\n-----END CERTIFICATE-----\n';
const ISSUED: NodeCertificate = { chain: CHAIN, serialNumber: '0a1b2c', caId: '9c8b7a6f-5e4d-4c3b-8a29-180f0e0d0c0b', subject: 'CN=node-2' };

let f: Fixture;
let provider: JoinTokenProvider;
beforeEach(async () => {
  f = await fixture();
  provider = new JoinTokenProvider({ store: f.store, barrier: f.barrier, clock: f.clock });
});
afterEach(() => f.close());

/** A pending request for node-2 with a fresh join token, written as a joiner would; the raw record may be altered first. */
async function writeRequest(fields: { csr?: unknown } = {}): Promise<{ record: JoinRequestRecord; tokenId: string }> {
  const issued = await provider.issue(officer(), f.audit, { nodeName: 'node-2' });
  const base = newJoinRequest({ nodeName: 'node-2', publicKey: createCustodianKeyPair().publicKey, provider: 'join-token', evidence: null, now: f.clock.now() });
  const evidence = joinTokenEvidence(issued.token).evidence({ requestId: base.requestId, nodeName: 'node-2', joinPublicKey: base.publicKey, domainId: f.domainId });
  const record = { ...base, evidence, ...('csr' in fields ? { csr: fields.csr } : {}) } as JoinRequestRecord;
  await f.store.commit([{ op: 'put', key: JOIN_REQUEST_PREFIX + record.requestId, value: Buffer.from(JSON.stringify(record)), expectVersion: 0 }]);
  return { record, tokenId: issued.tokenId };
}

async function answerOf(requestId: string): Promise<JoinRequestRecord | undefined> {
  const key = JOIN_REQUEST_PREFIX + requestId;
  const entry = await f.store.get(key);
  return entry === undefined ? undefined : decodeJoinRequest(key, entry.value);
}

function admitter(certify: CertifyHook | undefined, onError?: (error: unknown) => void): Admitter {
  return new Admitter({
    store: f.store, barrier: f.barrier, provider, audit: () => f.audit, nodeId: 'node-1', clock: f.clock,
    ...(certify === undefined ? {} : { certify }), ...(onError === undefined ? {} : { onError }),
  });
}

function recording(result: (request: CertifyRequest) => Promise<NodeCertificate | undefined>): { hook: CertifyHook; calls: CertifyRequest[] } {
  const calls: CertifyRequest[] = [];
  return { calls, hook: (request) => { calls.push(request); return result(request); } };
}

const certificateEntries = (): AuditEvent[] => f.audit.events.filter((e) => e.operation === 'cluster.join.certificate');

describe('admitter certify hook', () => {
  it('is called with the CSR and the attested identity; the chain is in the answer and the issue audited ALLOWED', async () => {
    const { record, tokenId } = await writeRequest({ csr: CSR });
    const { hook, calls } = recording(() => Promise.resolve(ISSUED));
    assert.deepEqual(await admitter(hook).runOnce(), { admitted: 1, refused: 0, removed: 0 });
    assert.deepEqual(calls, [{ csr: CSR, nodeName: 'node-2', identity: { provider: 'join-token', subject: `join-token:${tokenId}` }, requestId: record.requestId }]);
    const answer = await answerOf(record.requestId);
    assert.equal(answer?.status, 'admitted');
    assert.ok(answer.transfer !== undefined);
    assert.equal(answer.certificate, CHAIN);
    const [entry, ...others] = certificateEntries();
    assert.equal(others.length, 0);
    assert.equal(entry?.outcome, 'ALLOWED');
    assert.equal(entry.requestId, record.requestId);
    assert.deepEqual([entry.detail?.['serialNumber'], entry.detail?.['caId'], entry.detail?.['certificateSubject']], [ISSUED.serialNumber, ISSUED.caId, 'CN=node-2']);
    const audited = JSON.stringify(f.audit.events);
    assert.equal(audited.includes('MIIBfake') || audited.includes('MIIleaf'), false, 'neither the CSR nor the certificate is audited');
    // Audited before the commit that releases the key, like the admission itself.
    const operations = f.audit.events.map((e) => e.operation);
    assert.ok(operations.indexOf('cluster.join.certificate') < operations.indexOf('cluster.join.admit'));
  });

  it('a failing hook still admits, without a certificate, audited FAILED with the error code', async () => {
    const { record } = await writeRequest({ csr: CSR });
    const { hook, calls } = recording(() => Promise.reject(new CofferError('CA_NOT_FOUND', 'no such certificate authority')));
    assert.equal((await admitter(hook).runOnce()).admitted, 1);
    assert.equal(calls.length, 1);
    const answer = await answerOf(record.requestId);
    assert.equal(answer?.status, 'admitted');
    assert.ok(answer.transfer !== undefined);
    assert.equal(answer.certificate, undefined);
    const [entry] = certificateEntries();
    assert.equal(entry?.outcome, 'FAILED');
    assert.equal(entry.errorCode, 'CA_NOT_FOUND');
    assert.equal(f.audit.events.find((e) => e.operation === 'cluster.join.admit')?.outcome, 'ALLOWED');
  });

  it('a hook fault that is no CofferError is INTERNAL_ERROR in the audit and reported to onError; the node is admitted', async () => {
    const { record } = await writeRequest({ csr: CSR });
    const reported: unknown[] = [];
    const fault = new TypeError('boom');
    assert.equal((await admitter(() => Promise.reject(fault), (error) => reported.push(error)).runOnce()).admitted, 1);
    assert.equal((await answerOf(record.requestId))?.status, 'admitted');
    assert.equal(certificateEntries()[0]?.errorCode, 'INTERNAL_ERROR');
    assert.deepEqual(reported, [fault]);
  });

  it('a chain too large for the answer is not sent: admitted without it, audited FAILED', async () => {
    const { record } = await writeRequest({ csr: CSR });
    const huge = { ...ISSUED, chain: `-----BEGIN CERTIFICATE-----\n${'A'.repeat(20_000)}\n-----END CERTIFICATE-----\n` };
    assert.equal((await admitter(() => Promise.resolve(huge)).runOnce()).admitted, 1);
    const answer = await answerOf(record.requestId);
    assert.equal(answer?.status, 'admitted');
    assert.equal(answer.certificate, undefined);
    const [entry] = certificateEntries();
    assert.equal(entry?.outcome, 'FAILED');
    assert.equal(entry.errorCode, 'INVALID_ARGUMENT');
    assert.equal(entry.detail?.['serialNumber'], ISSUED.serialNumber, 'the issued but unsent certificate can still be found and revoked');
  });

  it('a request without a CSR never calls the hook; a hook that issues nothing leaves no certificate entry', async () => {
    const { record } = await writeRequest();
    const { hook, calls } = recording(() => Promise.resolve(ISSUED));
    assert.equal((await admitter(hook).runOnce()).admitted, 1);
    assert.equal(calls.length, 0);
    assert.equal((await answerOf(record.requestId))?.certificate, undefined);
    const second = await writeRequest({ csr: CSR });
    assert.equal((await admitter(() => Promise.resolve(undefined)).runOnce()).admitted, 1);
    assert.equal((await answerOf(second.record.requestId))?.certificate, undefined);
    assert.deepEqual(certificateEntries(), []);
  });

  it('without a hook a request with a CSR is admitted as before', async () => {
    const { record } = await writeRequest({ csr: CSR });
    assert.equal((await admitter(undefined).runOnce()).admitted, 1);
    const answer = await answerOf(record.requestId);
    assert.equal(answer?.status, 'admitted');
    assert.equal(answer.certificate, undefined);
    assert.deepEqual(certificateEntries(), []);
  });

  it('a malformed csr field makes the request malformed: removed at once, the hook never called, nobody admitted', async () => {
    const { hook, calls } = recording(() => Promise.resolve(ISSUED));
    for (const csr of [42, '', 'x'.repeat(MAX_JOIN_CSR_CHARS + 1), '-----BEGIN CERTIFICATE REQUEST-----\u0000', 'caf\u00e9', null]) {
      const { record } = await writeRequest({ csr });
      assert.equal(decodeJoinRequest(JOIN_REQUEST_PREFIX + record.requestId, Buffer.from(JSON.stringify(record))), undefined);
      assert.deepEqual(await admitter(hook).runOnce(), { admitted: 0, refused: 0, removed: 1 }, `csr ${JSON.stringify(csr)}`);
      assert.equal(await f.store.get(JOIN_REQUEST_PREFIX + record.requestId), undefined);
    }
    assert.equal(calls.length, 0);
    assert.equal(f.audit.events.some((e) => e.operation === 'cluster.join.admit'), false);
  });

  it('a malformed certificate field in an answer makes it malformed too', async () => {
    const { record } = await writeRequest({ csr: CSR });
    const answered = { ...record, status: 'admitted', certificate: 'x'.repeat(20_000) };
    assert.equal(decodeJoinRequest(JOIN_REQUEST_PREFIX + record.requestId, Buffer.from(JSON.stringify(answered))), undefined);
    assert.ok(decodeJoinRequest(JOIN_REQUEST_PREFIX + record.requestId, Buffer.from(JSON.stringify({ ...answered, certificate: CHAIN }))) !== undefined);
  });

  it('a joiner refuses to send a CSR out of bounds (INVALID_ARGUMENT)', () => {
    assert.throws(() => newJoinRequest({ nodeName: 'node-2', publicKey: 'A'.repeat(43), provider: 'join-token', evidence: null, now: new Date(), csr: 'x'.repeat(MAX_JOIN_CSR_CHARS + 1) }),
      { code: 'INVALID_ARGUMENT' });
    assert.ok(encodeJoinRequest(newJoinRequest({ nodeName: 'node-2', publicKey: 'A'.repeat(43), provider: 'join-token', evidence: null, now: new Date(), csr: CSR })).length > 0);
  });

  it('joinCluster sends the CSR and returns the certificate the admitter issued', async () => {
    const issued = await provider.issue(officer(), f.audit, { nodeName: 'node-2' });
    const { hook, calls } = recording(() => Promise.resolve(ISSUED));
    const running = admitter(hook);
    const joining = joinCluster({
      store: f.store, domainId: f.domainId, nodeName: 'node-2', evidence: joinTokenEvidence(issued.token), csr: CSR, pollIntervalMs: 10, timeoutMs: 10_000,
      unseal: () => Promise.resolve(),
    });
    while ((await f.store.list(JOIN_REQUEST_PREFIX)).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal((await running.runOnce()).admitted, 1);
    const outcome = await joining;
    assert.equal(outcome.certificate, CHAIN);
    assert.equal(calls[0]?.csr, CSR);
    assert.deepEqual(await f.store.list(JOIN_REQUEST_PREFIX), []);
  });
});
