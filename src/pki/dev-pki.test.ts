import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { certificateFingerprint, certificateSubjectCommonName, ensureDevPki, issueClientCertificate } from './index.ts';
import { ALL_FILES, DAY_MS, LEAF_FILES, openssl, snapshot, sorted, tempDir } from './pki-test-kit.ts';

function cert(dir: string, name: string): X509Certificate {
  return new X509Certificate(readFileSync(join(dir, name)));
}

describe('ensureDevPki: first call', () => {
  it('creates a private directory with every file at 0600, and reports what it wrote', async (t) => {
    const dir = join(tempDir(t), 'nested', 'pki');
    const pki = await ensureDevPki(dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(sorted(pki.created), ALL_FILES);
    for (const name of ALL_FILES) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    assert.equal(pki.dir, dir);
    assert.equal(pki.caPath, join(dir, 'ca.pem'));
    assert.equal(pki.caKeyPath, join(dir, 'ca.key'));
    assert.equal(pki.serverCertPath, join(dir, 'server.pem'));
    assert.equal(pki.serverKeyPath, join(dir, 'server.key'));
    assert.deepEqual(pki.user, { certPath: join(dir, 'user.pem'), keyPath: join(dir, 'user.key'), fingerprint: certificateFingerprint(readFileSync(pki.user.certPath, 'utf8')) });
    assert.equal(pki.officer.fingerprint, certificateFingerprint(readFileSync(pki.officer.certPath)));
    assert.match(pki.officer.fingerprint, /^[0-9a-f]{64}$/);
    assert.notEqual(pki.officer.fingerprint, pki.user.fingerprint);
    // No temporary files are left behind.
    assert.deepEqual(sorted(ALL_FILES), sorted([...snapshot(dir).keys()]));
  });

  it('writes certificates openssl verifies for the right purpose only', async (t) => {
    const dir = tempDir(t);
    await ensureDevPki(dir);
    for (const [name, purpose, wrong] of [['server.pem', 'sslserver', 'sslclient'], ['officer.pem', 'sslclient', 'sslserver'], ['user.pem', 'sslclient', 'sslserver'], ['signer.pem', 'sslclient', 'sslserver']] as const) {
      const plain = await openssl(['verify', '-x509_strict', '-CAfile', 'ca.pem', name], dir);
      assert.equal(plain.status, 0, `${name}: ${plain.stderr}`);
      assert.equal(plain.stdout.trim(), `${name}: OK`);
      const right = await openssl(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', 'ca.pem', name], dir);
      assert.equal(right.status, 0, `${name} ${purpose}: ${right.stderr}`);
      const refused = await openssl(['verify', '-purpose', wrong, '-CAfile', 'ca.pem', name], dir);
      assert.notEqual(refused.status, 0, `${name} must not verify for ${wrong}`);
    }
    // The CA is the only trust anchor: a leaf alone does not verify.
    assert.notEqual((await openssl(['verify', '-CAfile', 'user.pem', 'user.pem'], dir)).status, 0);
  });

  it('puts the specified names, usages and extensions in each certificate', async (t) => {
    const dir = tempDir(t);
    await ensureDevPki(dir, { hostnames: ['Coffer.Test', '10.1.2.3', '2001:DB8::1', 'localhost', '0:0::1'] });
    const ext = async (name: string, list: string): Promise<string> => {
      const result = await openssl(['x509', '-in', name, '-noout', '-ext', list], dir);
      assert.equal(result.status, 0, result.stderr);
      return result.stdout;
    };
    const server = await ext('server.pem', 'subjectAltName,extendedKeyUsage,basicConstraints,keyUsage');
    assert.match(server, /X509v3 Subject Alternative Name: *\n +DNS:localhost, DNS:coffer\.test, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10\.1\.2\.3, IP Address:2001:DB8:0:0:0:0:0:1\n/);
    assert.match(server, /X509v3 Extended Key Usage: *\n +TLS Web Server Authentication\n/);
    assert.match(server, /X509v3 Basic Constraints: critical\n +CA:FALSE\n/);
    assert.match(server, /X509v3 Key Usage: critical\n +Digital Signature\n/);
    for (const name of ['officer.pem', 'user.pem']) {
      const client = await ext(name, 'subjectAltName,extendedKeyUsage');
      assert.match(client, /X509v3 Extended Key Usage: *\n +TLS Web Client Authentication\n/);
      assert.doesNotMatch(client, /Subject Alternative Name|Server Authentication/);
    }
    const ca = await ext('ca.pem', 'basicConstraints,keyUsage,subjectKeyIdentifier');
    assert.match(ca, /X509v3 Basic Constraints: critical\n +CA:TRUE, pathlen:0\n/);
    assert.match(ca, /X509v3 Key Usage: critical\n +Certificate Sign, CRL Sign\n/);
    const caKeyId = /Subject Key Identifier: *\n +([0-9A-F:]+)\n/.exec(ca)?.[1];
    assert.ok(caKeyId !== undefined);
    for (const name of ['server.pem', 'officer.pem', 'user.pem']) {
      const ids = await ext(name, 'subjectKeyIdentifier,authorityKeyIdentifier');
      assert.match(ids, new RegExp(`Authority Key Identifier: *\\n +(keyid:)?${caKeyId}\\n`), name);
      assert.match(ids, /Subject Key Identifier: *\n +[0-9A-F:]{59}\n/, name);
    }
  });

  it('uses ECDSA P-256 with SHA-256, PKCS#8 keys, random positive 16-byte serials, and the specified lifetimes', async (t) => {
    const dir = tempDir(t);
    const now = new Date('2030-06-01T12:00:00Z');
    await ensureDevPki(dir, { now });
    const serials = new Set<string>();
    for (const base of ['ca', 'server', 'officer', 'user']) {
      const text = await openssl(['x509', '-in', `${base}.pem`, '-noout', '-text', '-serial'], dir);
      assert.match(text.stdout, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(text.stdout, /ASN1 OID: prime256v1/);
      const serial = /^serial=([0-9A-F]+)$/m.exec(text.stdout)?.[1] ?? '';
      assert.match(serial, /^[4-7][0-9A-F]{31}$/, `${base} serial ${serial}`);
      serials.add(serial);
      const key = readFileSync(join(dir, `${base}.key`), 'utf8');
      assert.match(key, /^-----BEGIN PRIVATE KEY-----\n/);
      const pkey = await openssl(['pkey', '-in', `${base}.key`, '-noout', '-text'], dir);
      assert.equal(pkey.status, 0, pkey.stderr);
      assert.match(pkey.stdout, /ASN1 OID: prime256v1/);
    }
    assert.equal(serials.size, 4);
    const ca = cert(dir, 'ca.pem');
    assert.equal(ca.validToDate.toISOString(), '2035-06-01T12:00:00.000Z');
    assert.ok(ca.validFromDate.getTime() <= now.getTime() && ca.validFromDate.getTime() > now.getTime() - 3_600_000);
    for (const name of ['server.pem', 'officer.pem', 'user.pem']) {
      assert.equal(cert(dir, name).validToDate.getTime(), now.getTime() + 365 * DAY_MS, name);
    }
    assert.match(certificateSubjectCommonName(readFileSync(join(dir, 'ca.pem'), 'utf8')) ?? '', /^Coffer development CA [0-9a-f]{12}$/);
    assert.equal(certificateSubjectCommonName(readFileSync(join(dir, 'officer.pem'))), 'dev-officer');
    assert.equal(certificateSubjectCommonName(readFileSync(join(dir, 'user.pem'))), 'dev-user');
    assert.equal(certificateSubjectCommonName(readFileSync(join(dir, 'server.pem'))), 'localhost');
  });

  it('gives every directory its own CA', async (t) => {
    const a = await ensureDevPki(tempDir(t));
    const b = await ensureDevPki(tempDir(t));
    assert.notEqual(certificateSubjectCommonName(readFileSync(a.caPath)), certificateSubjectCommonName(readFileSync(b.caPath)));
    const cross = await openssl(['verify', '-CAfile', a.caPath, b.user.certPath]);
    assert.notEqual(cross.status, 0);
  });
});

describe('ensureDevPki: reuse', () => {
  it('creates nothing on a second call and leaves every file untouched', async (t) => {
    const dir = tempDir(t);
    const first = await ensureDevPki(dir);
    const before = snapshot(dir);
    const second = await ensureDevPki(dir);
    assert.deepEqual(second.created, []);
    assert.deepEqual(snapshot(dir), before);
    assert.equal(second.user.fingerprint, first.user.fingerprint);
    assert.equal(second.officer.fingerprint, first.officer.fingerprint);
  });

  it('reissues only the user leaf when user.key is deleted', async (t) => {
    const dir = tempDir(t);
    const first = await ensureDevPki(dir);
    const before = snapshot(dir);
    unlinkSync(join(dir, 'user.key'));
    const second = await ensureDevPki(dir);
    assert.deepEqual(sorted(second.created), ['user.key', 'user.pem']);
    const after = snapshot(dir);
    for (const name of ALL_FILES.filter((n) => !n.startsWith('user.'))) assert.deepEqual(after.get(name), before.get(name), name);
    assert.notEqual(second.user.fingerprint, first.user.fingerprint);
    assert.equal(second.user.fingerprint, certificateFingerprint(readFileSync(join(dir, 'user.pem'))));
    assert.equal(second.officer.fingerprint, first.officer.fingerprint);
    assert.equal((await openssl(['verify', '-purpose', 'sslclient', '-CAfile', 'ca.pem', 'user.pem'], dir)).status, 0);
    assert.ok(cert(dir, 'user.pem').checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'user.key')))));
  });

  it('reissues every leaf, but keeps the CA, when the leaves expire within 30 days', async (t) => {
    const dir = tempDir(t);
    await ensureDevPki(dir, { now: new Date(Date.now() - 340 * DAY_MS) });
    assert.ok(cert(dir, 'user.pem').validToDate.getTime() - Date.now() < 30 * DAY_MS);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const second = await ensureDevPki(dir);
    assert.deepEqual(sorted(second.created), LEAF_FILES);
    assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), ca);
    assert.ok(cert(dir, 'user.pem').validToDate.getTime() - Date.now() > 300 * DAY_MS);
    assert.equal((await openssl(['verify', '-purpose', 'sslserver', '-CAfile', 'ca.pem', 'server.pem'], dir)).status, 0);
  });

  it('reissues a single leaf expiring within 30 days and keeps one with more left', async (t) => {
    const dir = tempDir(t);
    await ensureDevPki(dir);
    const ca = { certPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
    const install = (issued: { certPem: string; keyPem?: string }): void => {
      writeFileSync(join(dir, 'user.pem'), issued.certPem, { mode: 0o600 });
      writeFileSync(join(dir, 'user.key'), issued.keyPem ?? '', { mode: 0o600 });
    };
    install(await issueClientCertificate(ca, { commonName: 'dev-user', days: 45 }));
    assert.deepEqual((await ensureDevPki(dir)).created, []);
    install(await issueClientCertificate(ca, { commonName: 'dev-user', days: 29 }));
    assert.deepEqual(sorted((await ensureDevPki(dir)).created), ['user.key', 'user.pem']);
  });

  it('reissues a leaf from another CA, one whose key does not match, or one with the wrong name', async (t) => {
    const dir = tempDir(t);
    const other = await ensureDevPki(tempDir(t));
    await ensureDevPki(dir);
    copyFileSync(other.user.certPath, join(dir, 'user.pem'));
    copyFileSync(other.user.keyPath, join(dir, 'user.key'));
    const foreign = await ensureDevPki(dir);
    assert.deepEqual(sorted(foreign.created), ['user.key', 'user.pem']);
    assert.notEqual(foreign.user.fingerprint, other.user.fingerprint);

    copyFileSync(join(dir, 'officer.key'), join(dir, 'user.key'));
    assert.deepEqual(sorted((await ensureDevPki(dir)).created), ['user.key', 'user.pem']);

    // The officer's own certificate and key, in the user's place: valid, but the wrong principal.
    copyFileSync(join(dir, 'officer.key'), join(dir, 'user.key'));
    copyFileSync(join(dir, 'officer.pem'), join(dir, 'user.pem'));
    assert.deepEqual(sorted((await ensureDevPki(dir)).created), ['user.key', 'user.pem']);
    assert.equal(certificateSubjectCommonName(readFileSync(join(dir, 'user.pem'))), 'dev-user');
  });

  it('recreates everything when the CA is unparsable or its key is missing', async (t) => {
    const dir = tempDir(t);
    const first = await ensureDevPki(dir);
    const firstCa = certificateSubjectCommonName(readFileSync(first.caPath));
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
    const second = await ensureDevPki(dir);
    assert.deepEqual(sorted(second.created), ALL_FILES);
    assert.notEqual(certificateSubjectCommonName(readFileSync(second.caPath)), firstCa);
    assert.notEqual(second.user.fingerprint, first.user.fingerprint);
    unlinkSync(join(dir, 'ca.key'));
    assert.deepEqual(sorted((await ensureDevPki(dir)).created), ALL_FILES);
    for (const name of ['server.pem', 'officer.pem', 'user.pem']) {
      assert.equal((await openssl(['verify', '-CAfile', 'ca.pem', name], dir)).status, 0, name);
    }
  });

  it('reissues only the server leaf when a new hostname is asked for', async (t) => {
    const dir = tempDir(t);
    await ensureDevPki(dir, { hostnames: ['coffer.test'] });
    assert.deepEqual((await ensureDevPki(dir)).created, [], 'fewer names than the certificate has is fine');
    assert.deepEqual(sorted((await ensureDevPki(dir, { hostnames: ['coffer.test', '192.0.2.7'] })).created), ['server.key', 'server.pem']);
    const server = cert(dir, 'server.pem');
    assert.equal(server.checkIP('192.0.2.7'), '192.0.2.7');
    assert.equal(server.checkHost('coffer.test'), 'coffer.test');
  });

  it('tightens a reused file that was made readable by others', async (t) => {
    const dir = tempDir(t);
    await ensureDevPki(dir);
    chmodSync(join(dir, 'user.key'), 0o644);
    assert.deepEqual((await ensureDevPki(dir)).created, []);
    assert.equal(statSync(join(dir, 'user.key')).mode & 0o777, 0o600);
  });

  it('runs concurrent calls on one directory one after another', async (t) => {
    const dir = tempDir(t);
    const results = await Promise.all([ensureDevPki(dir), ensureDevPki(dir), ensureDevPki(dir)]);
    assert.deepEqual(results.map((r) => r.created.length), [ALL_FILES.length, 0, 0]);
    assert.equal(new Set(results.map((r) => r.user.fingerprint)).size, 1);
  });
});

describe('ensureDevPki: refusals', () => {
  it('refuses bad hostnames, dir and now before touching the disk', async (t) => {
    const dir = join(tempDir(t), 'pki');
    for (const hostnames of [['bad name'], ['-x.test'], ['a..b'], [''], ['127.1'], ['fe80::1%eth0'], ['*.test'], [`${'a'.repeat(64)}.test`], [42], 'localhost']) {
      await assert.rejects(ensureDevPki(dir, { hostnames: hostnames as string[] }), { code: 'INVALID_ARGUMENT' }, JSON.stringify(hostnames));
    }
    await assert.rejects(ensureDevPki(dir, { now: new Date(Number.NaN) }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(ensureDevPki(dir, { now: '2030-01-01' as unknown as Date }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(ensureDevPki(''), { code: 'INVALID_ARGUMENT' });
    assert.equal(existsSync(dir), false);
  });

  it('refuses a dir that is a file, or lies under one', async (t) => {
    const file = join(tempDir(t), 'file');
    writeFileSync(file, 'x');
    await assert.rejects(ensureDevPki(file), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(ensureDevPki(join(file, 'pki')), { code: 'INVALID_ARGUMENT' });
    assert.equal(readFileSync(file, 'utf8'), 'x');
  });

  it('never replaces something that is not a regular file', async (t) => {
    const dir = tempDir(t);
    await ensureDevPki(dir);
    rmSync(join(dir, 'user.pem'));
    mkdirSync(join(dir, 'user.pem'));
    await assert.rejects(ensureDevPki(dir), { code: 'INVALID_ARGUMENT' });
    assert.ok(statSync(join(dir, 'user.pem')).isDirectory());
    rmSync(join(dir, 'user.pem'), { recursive: true });

    const outside = join(tempDir(t), 'target');
    symlinkSync(outside, join(dir, 'user.pem'));
    await assert.rejects(ensureDevPki(dir), { code: 'INVALID_ARGUMENT' });
    assert.equal(existsSync(outside), false, 'nothing written through a dangling symlink');
  });
});
