import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateFingerprint, certificateSubjectCommonName, ensureDevPki, issueClientCertificate } from './index.ts';
import { DAY_MS, openssl, tempDir } from './pki-test-kit.ts';

const cleanups: (() => void)[] = [];
let dir: string;
let ca: { certPem: string; keyPem: string };

before(async () => {
  dir = tempDir({ after: (cleanup: () => void) => cleanups.push(cleanup) });
  await ensureDevPki(dir);
  ca = { certPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
});

after(() => {
  for (const cleanup of cleanups) cleanup();
});

/** Writes `pem` into the test directory and runs openssl verify on it as a TLS client certificate. */
async function verifyAsClient(name: string, pem: string): Promise<number> {
  writeFileSync(join(dir, name), pem);
  return (await openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', 'ca.pem', name], dir)).status;
}

describe('issueClientCertificate', () => {
  it('generates a P-256 key pair when no public key is given and returns its PKCS#8 PEM', async () => {
    const issued = await issueClientCertificate(ca, { commonName: 'alice' });
    assert.ok(issued.keyPem !== undefined);
    assert.match(issued.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const cert = new X509Certificate(issued.certPem);
    assert.ok(cert.checkPrivateKey(createPrivateKey(issued.keyPem)));
    assert.equal(createPrivateKey(issued.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(issued.fingerprint, certificateFingerprint(issued.certPem));
    assert.equal(certificateSubjectCommonName(issued.certPem), 'alice');
    assert.equal(await verifyAsClient('alice.pem', issued.certPem), 0);
    const ext = await openssl(['x509', '-in', 'alice.pem', '-noout', '-ext', 'extendedKeyUsage,basicConstraints,authorityKeyIdentifier'], dir);
    assert.match(ext.stdout, /TLS Web Client Authentication\n/);
    assert.doesNotMatch(ext.stdout, /Server Authentication/);
    assert.match(ext.stdout, /CA:FALSE/);
    assert.notEqual((await openssl(['verify', '-purpose', 'sslserver', '-CAfile', 'ca.pem', 'alice.pem'], dir)).status, 0);
  });

  it('certifies a given public key (EC, RSA, Ed25519) without returning a private key', async () => {
    const keys = [
      generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
      generateKeyPairSync('ed25519'),
    ];
    for (const [index, pair] of keys.entries()) {
      const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const issued = await issueClientCertificate(ca, { commonName: `svc-${index}`, publicKeyPem });
      assert.equal('keyPem' in issued, false);
      const cert = new X509Certificate(issued.certPem);
      assert.ok(cert.checkPrivateKey(pair.privateKey), pair.publicKey.asymmetricKeyType);
      assert.equal(await verifyAsClient(`svc-${index}.pem`, issued.certPem), 0, pair.publicKey.asymmetricKeyType);
    }
  });

  it('lasts `days` (default 365), never past the CA, with random positive 16-byte serials', async () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 100 * DAY_MS); // X.509 times have whole seconds
    const year = new X509Certificate((await issueClientCertificate(ca, { commonName: 'a', now })).certPem);
    assert.equal(year.validToDate.getTime(), now.getTime() + 365 * DAY_MS);
    assert.ok(year.validFromDate.getTime() < now.getTime());
    const week = new X509Certificate((await issueClientCertificate(ca, { commonName: 'a', days: 7 })).certPem);
    assert.ok(Math.abs(week.validToDate.getTime() - (Date.now() + 7 * DAY_MS)) < 60_000);
    const caCert = new X509Certificate(ca.certPem);
    const capped = new X509Certificate((await issueClientCertificate(ca, { commonName: 'a', days: 3650 })).certPem);
    assert.equal(capped.validToDate.getTime(), caCert.validToDate.getTime());
    await assert.rejects(issueClientCertificate(ca, { commonName: 'a', now: new Date(caCert.validToDate.getTime() + 1000) }), { code: 'INVALID_ARGUMENT' });
    const serials = new Set<string>();
    for (let i = 0; i < 20; i += 1) {
      const serial = new X509Certificate((await issueClientCertificate(ca, { commonName: 'a' })).certPem).serialNumber;
      assert.match(serial, /^[4-7][0-9A-F]{31}$/);
      serials.add(serial);
    }
    assert.equal(serials.size, 20);
  });

  it('refuses a bad commonName, days or now with INVALID_ARGUMENT', async () => {
    for (const commonName of ['', 'a'.repeat(65), 'a b', 'é', 'a/b', 'CN=x,O=y', 'line\nbreak', undefined, 7]) {
      await assert.rejects(issueClientCertificate(ca, { commonName: commonName as string }), { code: 'INVALID_ARGUMENT' }, String(commonName));
    }
    assert.equal(certificateSubjectCommonName((await issueClientCertificate(ca, { commonName: 'A'.repeat(64) })).certPem), 'A'.repeat(64));
    for (const days of [0, -1, 1.5, 3651, Number.NaN, '30']) {
      await assert.rejects(issueClientCertificate(ca, { commonName: 'a', days: days as number }), { code: 'INVALID_ARGUMENT' }, String(days));
    }
    await assert.rejects(issueClientCertificate(ca, { commonName: 'a', now: new Date('nope') }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(issueClientCertificate(ca, undefined as unknown as { commonName: string }), { code: 'INVALID_ARGUMENT' });
  });

  it('refuses a public key that is not a public key, or too weak', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const good = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const candidates = [
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      weak,
      secp256k1,
      'garbage',
      good.replace('MFkw', 'MFkx'),
      `${good}${good}`,
      ca.certPem,
    ];
    for (const publicKeyPem of candidates) {
      await assert.rejects(issueClientCertificate(ca, { commonName: 'a', publicKeyPem }), { code: 'INVALID_ARGUMENT' }, publicKeyPem.slice(0, 40));
    }
  });

  it('refuses a CA that is not one, or whose key does not match', async () => {
    const user = { certPem: readFileSync(join(dir, 'user.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'user.key'), 'utf8') };
    const other = await ensureDevPki(join(dir, 'other'));
    const otherKey = readFileSync(join(other.dir, 'ca.key'), 'utf8');
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const encrypted = createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    for (const bad of [
      user,
      { certPem: ca.certPem, keyPem: otherKey },
      { certPem: ca.certPem, keyPem: rsaKey },
      { certPem: ca.certPem, keyPem: encrypted },
      { certPem: ca.certPem, keyPem: 'nope' },
      { certPem: 'nope', keyPem: ca.keyPem },
      { certPem: ca.certPem },
      undefined,
    ]) {
      await assert.rejects(issueClientCertificate(bad as typeof ca, { commonName: 'a' }), { code: 'INVALID_ARGUMENT' });
    }
  });
});
