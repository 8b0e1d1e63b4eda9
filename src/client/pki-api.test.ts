// PkiApi over a recording transport: the paths and bodies of the contract, names resolved to ids
// (keys by their route, CAs by the filtered list), and issueForKey's sequence.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCofferError } from '../core/errors.ts';
import { encodePem } from '../pki/pem-blocks.ts';
import { PkiApi, joinPem, parseCaRef } from './pki-api.ts';
import { recordingTransport } from './recording-transport-test-kit.ts';

const KEY_ID = '3f2a8c1e-5b7d-4e9f-a1c3-0d2e4f6a8b9c';
const CA_ID = '9c8b7a6f-5e4d-4c3b-8a29-180f0e0d0c0b';
const CERT_ID = '11111111-2222-4333-8444-555555555555';
const LEAF = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
const CHAIN = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nCCCC\n-----END CERTIFICATE-----\n';

describe('PkiApi', () => {
  it('looks a project/name key up once, then uses its id on the certificate routes', async () => {
    const http = recordingTransport([{ id: KEY_ID }, { csr: 'PEM' }, { id: KEY_ID }, { certificates: [] }]);
    const pki = new PkiApi(http);
    await pki.createCsr('acme/release', { subject: 'CN=Release', extendedKeyUsage: ['codeSigning'] });
    assert.deepEqual(await pki.listCertificates({ project: 'acme', name: 'release' }), []);
    assert.deepEqual(http.sent.map((s) => `${s.method} ${s.path}`), [
      'GET /v1/projects/acme/keys/release', `POST /v1/keys/${KEY_ID}/csr`, 'GET /v1/projects/acme/keys/release', `GET /v1/keys/${KEY_ID}/certificates`,
    ]);
    assert.deepEqual(http.sent[1]?.options, { body: { subject: 'CN=Release', extendedKeyUsage: ['codeSigning'] }, idempotent: true });
  });

  it('sends an id straight to the routes, and deletes with DELETE', async () => {
    const http = recordingTransport([{ certificateId: CERT_ID }, { pem: LEAF }, undefined]);
    const pki = new PkiApi(http);
    await pki.attachCertificate(KEY_ID, LEAF);
    await pki.getCertificate(KEY_ID, CERT_ID);
    await pki.detachCertificate(KEY_ID, CERT_ID);
    assert.deepEqual(http.sent.map((s) => `${s.method} ${s.path}`), [
      `POST /v1/keys/${KEY_ID}/certificates`, `GET /v1/keys/${KEY_ID}/certificates/${CERT_ID}`, `DELETE /v1/keys/${KEY_ID}/certificates/${CERT_ID}`,
    ]);
    assert.deepEqual(http.sent[0]?.options, { body: { certificate: LEAF } });
  });

  it('finds a project/name CA through the filtered list, and refuses none or several with CA_NOT_FOUND', async () => {
    const http = recordingTransport([{ cas: [{ caId: CA_ID }] }, { crlNumber: 3 }, { cas: [] }, { cas: [{ caId: CA_ID }, { caId: KEY_ID }] }]);
    const pki = new PkiApi(http);
    assert.deepEqual(await pki.publishCrl('acme/root'), { crlNumber: 3 });
    assert.deepEqual(http.sent.slice(0, 2).map((s) => [s.method, s.path, s.options?.query]), [
      ['GET', '/v1/pki/cas', { project: 'acme', name: 'root' }], ['POST', `/v1/pki/cas/${CA_ID}/crl`, undefined],
    ]);
    await assert.rejects(pki.getCa('acme/missing'), (error: unknown) => isCofferError(error, 'CA_NOT_FOUND'));
    await assert.rejects(pki.getCa('acme/twice'), (error: unknown) => isCofferError(error, 'CA_NOT_FOUND'));
    assert.throws(() => parseCaRef('root'), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    assert.throws(() => parseCaRef('a/b/c'), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
  });

  it('sends createCa with the key as text, issue with a DER CSR as PEM, and revoke with its reason', async () => {
    const http = recordingTransport([{ caId: CA_ID }, { serialNumber: '0a' }, { serialNumber: '0a', reason: 'superseded' }, { certificates: [] }, { serialNumber: '0a' }]);
    const pki = new PkiApi(http);
    await pki.createCa({ name: 'root', key: { project: 'acme', name: 'root-key' }, subject: 'CN=Root', pathLength: 1, profile: { maxValidityDays: 90 } });
    const der = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]);
    await pki.issue(CA_ID, { csr: der, validityDays: 30, dnsNames: ['a.example'] });
    await pki.revoke(CA_ID, '0a', 'superseded');
    await pki.listIssued(CA_ID);
    await pki.getIssued(CA_ID, '0a');
    assert.deepEqual(http.sent.map((s) => [s.method, s.path, s.options?.body]), [
      ['POST', '/v1/pki/cas', { name: 'root', key: 'acme/root-key', subject: 'CN=Root', pathLength: 1, profile: { maxValidityDays: 90 } }],
      ['POST', `/v1/pki/cas/${CA_ID}/issue`, { csr: encodePem('CERTIFICATE REQUEST', der), validityDays: 30, dnsNames: ['a.example'] }],
      ['POST', `/v1/pki/cas/${CA_ID}/revoke`, { serialNumber: '0a', reason: 'superseded' }],
      ['GET', `/v1/pki/cas/${CA_ID}/certificates`, undefined],
      ['GET', `/v1/pki/cas/${CA_ID}/certificates/0a`, undefined],
    ]);
  });

  it('issueForKey: a CSR from the key, issued by the CA, attached with the chain, the key resolved once', async () => {
    const http = recordingTransport([
      { id: KEY_ID }, { csr: 'CSR-PEM' }, { cas: [{ caId: CA_ID }] }, { certificate: LEAF, chain: CHAIN, serialNumber: '0b' }, { certificateId: CERT_ID },
    ]);
    const result = await new PkiApi(http).issueForKey('acme/tls', 'acme/server', { subject: 'CN=server', dnsNames: ['s.acme.example'], validityDays: 90 });
    assert.equal(result.issued.serialNumber, '0b');
    assert.equal(result.attached.certificateId, CERT_ID);
    assert.deepEqual(http.sent.map((s) => [s.method, s.path, s.options?.body]), [
      ['GET', '/v1/projects/acme/keys/server', undefined],
      ['POST', `/v1/keys/${KEY_ID}/csr`, { subject: 'CN=server', dnsNames: ['s.acme.example'] }],
      ['GET', '/v1/pki/cas', undefined],
      ['POST', `/v1/pki/cas/${CA_ID}/issue`, { csr: 'CSR-PEM', validityDays: 90 }],
      ['POST', `/v1/keys/${KEY_ID}/certificates`, { certificate: `${LEAF}\n${CHAIN}` }],
    ]);
  });

  it('joinPem puts each block on its own lines and skips empty parts', () => {
    assert.equal(joinPem(LEAF, '', CHAIN), `${LEAF}\n${CHAIN}`);
    assert.equal(joinPem(`${LEAF}\n`), `${LEAF}\n`);
  });
});
