// Local CSRs: made for keys held in this process, they verify with openssl req -verify, carry what was
// asked for, and are for the key they were signed with.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isCofferError } from '../core/errors.ts';
import { openssl, tempDir } from '../pki/pki-test-kit.ts';
import { parseCsr } from '../pki/x509/csr.ts';
import { buildLocalCsr, newLocalKeyWithCsr } from './local-csr.ts';

const REQUEST = {
  subject: 'CN=build-agent-7, O=Acme, C=US', dnsNames: ['agent7.build.acme.example'], ipAddresses: ['10.0.0.7'],
  keyUsage: ['digitalSignature'], extendedKeyUsage: ['clientAuth'],
};

describe('newLocalKeyWithCsr', () => {
  it('makes an EC P-256 key and a CSR for it that openssl verifies, with the subject, names and usages', async (t) => {
    const dir = tempDir(t);
    const { privateKeyPem, csr } = await newLocalKeyWithCsr(REQUEST);
    const privateKey = createPrivateKey(privateKeyPem);
    assert.equal(privateKey.asymmetricKeyType, 'ec');
    assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    writeFileSync(join(dir, 'r.csr'), csr.pem);
    const verified = await openssl(['req', '-in', 'r.csr', '-verify', '-noout', '-text'], dir);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(`${verified.stdout}${verified.stderr}`, /verify OK/i);
    assert.match(verified.stdout, /Subject: .*CN ?= ?build-agent-7/);
    assert.match(verified.stdout, /DNS:agent7\.build\.acme\.example, IP Address:10\.0\.0\.7/);
    assert.match(verified.stdout, /TLS Web Client Authentication/);
    assert.match(verified.stdout, /ecdsa-with-SHA256/);
    // The request is for this key: its public key is the private key's.
    const parsed = parseCsr(csr.pem);
    assert.ok(parsed.publicKeyDer.equals(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })));
    assert.deepEqual(parsed.extendedKeyUsage, ['1.3.6.1.5.5.7.3.2']);
  });

  it('makes a new key every time', async () => {
    const first = await newLocalKeyWithCsr({ subject: 'CN=a' });
    const second = await newLocalKeyWithCsr({ subject: 'CN=a' });
    assert.notEqual(first.privateKeyPem, second.privateKeyPem);
  });
});

describe('buildLocalCsr', () => {
  it('signs with RSA and Ed25519 keys too, and openssl verifies each', async (t) => {
    const dir = tempDir(t);
    for (const { privateKey } of [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('ed25519'), generateKeyPairSync('ec', { namedCurve: 'P-384' })]) {
      const csr = await buildLocalCsr(privateKey, { subject: 'CN=node-1, O=Acme' });
      writeFileSync(join(dir, 'r.csr'), csr.pem);
      const verified = await openssl(['req', '-in', 'r.csr', '-verify', '-noout'], dir);
      assert.equal(verified.status, 0, `${privateKey.asymmetricKeyType ?? ''}: ${verified.stderr}`);
    }
  });

  it('refuses a public key, an unsupported curve and a malformed subject', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    await assert.rejects(buildLocalCsr(publicKey, { subject: 'CN=x' }), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assert.rejects(buildLocalCsr(privateKey, { subject: 'CN=x' }), (error: unknown) => isCofferError(error, 'UNSUPPORTED_ALGORITHM'));
    const { privateKey: p256 } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await assert.rejects(buildLocalCsr(p256, { subject: 'not a name' }), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
  });
});
