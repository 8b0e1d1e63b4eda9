// The platform formats end to end: a real node and signer, keys with certificates from Coffer's own
// CA, and each output checked by the platform's tool — gpg for OpenPGP, osslsigncode for
// Authenticode, jarsigner for JAR — through the service's jobs and through direct signing from the
// command line; tampered files are rejected by the same tools.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPe } from '../src/signing/formats/authenticode/pe-test-kit.ts';
import { coffer, ok } from './coffer-command-kit.ts';
import { refusedWith, sha256, signedJob, signingKey, world } from './signer-world-kit.ts';

function run(command: string, args: readonly string[], cwd?: string): { status: number | null; out: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', ...(cwd === undefined ? {} : { cwd }), env: { ...process.env, LC_ALL: 'C' } });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

/** A byte flipped in the middle of a copy of `path`. */
function tampered(path: string, into: string): string {
  const bytes = Buffer.from(readFileSync(path));
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  writeFileSync(into, bytes);
  return into;
}

describe('platform signing formats through the service and the CLI', () => {
  it('openpgp (gpg), authenticode with a time-stamp (osslsigncode) and jar (jarsigner) verify; tampered files do not; digests are refused', { timeout: 240_000 }, async (t) => {
    const w = await world(t);
    const ursula = await w.as('ursula');
    const dir = join(w.node.dir, 'platform');
    mkdirSync(dir);
    const env = { COFFER_URL: w.node.url, COFFER_CA: w.node.pki.caPath, COFFER_CERT: w.node.pki.user.certPath, COFFER_KEY: w.node.pki.user.keyPath };

    // Keys: certificates for Authenticode and JAR from a CA in Coffer; a TSA for the counter-signature.
    await w.ursula.keys.create({ project: 'alpha', name: 'ca', spec: 'EC_P384', usage: 'SIGN_VERIFY' });
    const ca = await w.ursula.pki.createCa({ name: 'ca', key: 'alpha/ca', subject: 'CN=Acme Code Signing Root, O=Acme' });
    const root = join(dir, 'root.pem');
    writeFileSync(root, ca.certificate);
    await signingKey(w, 'pgp', 'EC_P256');
    await signingKey(w, 'win', 'RSA_3072');
    await w.ursula.pki.issueForKey('alpha/ca', 'alpha/win', { subject: 'CN=Acme Windows, O=Acme', extendedKeyUsage: ['codeSigning'], validityDays: 365 });
    await signingKey(w, 'java', 'EC_P256');
    await w.ursula.pki.issueForKey('alpha/ca', 'alpha/java', { subject: 'CN=Acme Java, O=Acme', extendedKeyUsage: ['codeSigning'], validityDays: 365 });
    await signingKey(w, 'tsa', 'EC_P256');
    await w.ursula.pki.issueForKey('alpha/ca', 'alpha/tsa', { subject: 'CN=Acme TSA, O=Acme', extendedKeyUsage: ['timeStamping'], validityDays: 365 });
    // OpenPGP hashes a trailer after the data, Authenticode and JAR sign inside the file: none can take a bare digest.
    await refusedWith(ursula.putProfile('alpha', 'linux', { format: 'openpgp', key: 'alpha/pgp', allowDigestSubmission: true }), 'INVALID_ARGUMENT');
    await refusedWith(ursula.putProfile('alpha', 'windows', { format: 'authenticode', key: 'alpha/win', allowDigestSubmission: true }), 'INVALID_ARGUMENT');
    await ursula.putProfile('alpha', 'linux', { format: 'openpgp', key: 'alpha/pgp' });
    await ursula.putProfile('alpha', 'windows', { format: 'authenticode', key: 'alpha/win', timeStampKey: 'alpha/tsa' });
    await ursula.putProfile('alpha', 'java', { format: 'jar', key: 'alpha/java' });
    // Embedded formats hold the signed copy in memory: a JAR over 1 GiB is refused before a byte is uploaded.
    await refusedWith(ursula.createUpload('alpha', { profile: 'java', size: 2 * 1024 ** 3 }), 'INPUT_TOO_LARGE');

    // OpenPGP: the key's certificate from the CLI, imported into a fresh gpg home.
    const gnupg = join(dir, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    const certificate = join(dir, 'release-key.asc');
    ok(await coffer(['openpgp', 'key', 'alpha/pgp', '--user-id', 'Acme Releases <release@acme.example>', '--out', certificate], env), 'openpgp key');
    const gpg = (args: readonly string[]): { status: number | null; out: string } => run('gpg', ['--homedir', gnupg, '--batch', '--no-tty', '--trust-model', 'always', ...args]);
    assert.equal(gpg(['--import', certificate]).status, 0);
    t.after(() => {
      run('gpgconf', ['--homedir', gnupg, '--kill', 'all']);
    });
    const tarball = join(dir, 'release.tar.gz');
    writeFileSync(tarball, Buffer.alloc(5 * 1024 * 1024 + 11, 'tarball '));
    const pgpJob = await signedJob(ursula, 'alpha', 'linux', tarball);
    const asc = join(dir, 'release.tar.gz.asc');
    writeFileSync(asc, (await ursula.jobOutput(pgpJob.jobId)).bytes);
    const good = gpg(['--verify', asc, tarball]);
    assert.ok(good.status === 0 && /Good signature from "Acme Releases <release@acme.example>"/.test(good.out), good.out);
    const badPgp = gpg(['--verify', asc, tampered(tarball, join(dir, 'tampered.tar.gz'))]);
    assert.ok(badPgp.status !== 0 && /BAD signature/.test(badPgp.out), badPgp.out);
    // Direct mode: hashed on the builder's machine; and clear-signed text for a manifest.
    const directAsc = join(dir, 'direct.asc');
    ok(await coffer(['sign', 'alpha/pgp', '--direct', '--as', 'openpgp', '--in', tarball, '--out', directAsc], env), 'sign --direct --as openpgp');
    assert.equal(gpg(['--verify', directAsc, tarball]).status, 0);
    const manifest = join(dir, 'SHA256SUMS');
    writeFileSync(manifest, `${sha256(readFileSync(tarball))}  release.tar.gz\n`);
    ok(await coffer(['openpgp', 'clearsign', 'alpha/pgp', '--in', manifest, '--out', `${manifest}.asc`], env), 'openpgp clearsign');
    assert.equal(gpg(['--verify', `${manifest}.asc`]).status, 0);
    // And no digest reaches a profile that takes files.
    await refusedWith(ursula.submitJob('alpha', { profile: 'linux', digest: { hash: 'SHA-256', value: sha256(readFileSync(tarball)) }, size: 1 }), 'SIGNING_DIGEST_NOT_ALLOWED');

    // Authenticode: a minimal PE signed by the service, counter-signed by Coffer's TSA.
    const exe = join(dir, 'app.exe');
    writeFileSync(exe, buildPe({ pe32plus: true, code: Buffer.alloc(4096, 0xc3) }));
    const winJob = await signedJob(ursula, 'alpha', 'windows', exe);
    const signedExe = join(dir, 'app-signed.exe');
    writeFileSync(signedExe, (await ursula.jobOutput(winJob.jobId)).bytes);
    const verifiedExe = run('osslsigncode', ['verify', '-in', signedExe, '-CAfile', root, '-TSA-CAfile', root]);
    assert.ok(verifiedExe.status === 0 && /Signature verification: ok/.test(verifiedExe.out) && /Timestamp Server Signature verification: ok/.test(verifiedExe.out), verifiedExe.out);
    const badExe = run('osslsigncode', ['verify', '-in', tampered(signedExe, join(dir, 'tampered.exe')), '-CAfile', root]);
    assert.ok(badExe.status !== 0 || !/Signature verification: ok/.test(badExe.out), badExe.out);
    await refusedWith(ursula.submitJob('alpha', { profile: 'windows', digest: { hash: 'SHA-256', value: sha256(readFileSync(exe)) }, size: 1 }), 'SIGNING_DIGEST_NOT_ALLOWED');
    // Direct: the builder's own copy signed in place of the service.
    const directExe = join(dir, 'direct.exe');
    ok(await coffer(['sign', 'alpha/win', '--direct', '--as', 'authenticode', '--in', exe, '--out', directExe], env), 'sign --direct --as authenticode');
    assert.match(run('osslsigncode', ['verify', '-in', directExe, '-CAfile', root]).out, /Signature verification: ok/);
    // Through the service from the CLI: the signed file is written as a copy beside the input, which stays as it was.
    const unsigned = readFileSync(exe);
    ok(await coffer(['signing', 'submit', 'alpha', 'windows', exe, '--wait', '--no-progress'], { ...env, COFFER_SIGNER_URL: w.signer.url }), 'signing submit --wait (authenticode)');
    assert.ok(readFileSync(exe).equals(unsigned), 'the input is not overwritten');
    assert.match(run('osslsigncode', ['verify', '-in', join(dir, 'app.signed.exe'), '-CAfile', root]).out, /Signature verification: ok/);

    // JAR: made by the JDK's jar tool, signed by the service, verified against a truststore with the root.
    const classes = join(dir, 'classes');
    mkdirSync(join(classes, 'com', 'acme'), { recursive: true });
    writeFileSync(join(classes, 'com', 'acme', 'App.class'), Buffer.from('cafebabe00000034', 'hex'));
    writeFileSync(join(classes, 'readme.txt'), 'Acme app\n');
    const jar = join(dir, 'app.jar');
    assert.equal(run('jar', ['--create', '--file', jar, '-C', classes, '.']).status, 0);
    const javaJob = await signedJob(ursula, 'alpha', 'java', jar);
    const signedJar = join(dir, 'app-signed.jar');
    writeFileSync(signedJar, (await ursula.jobOutput(javaJob.jobId)).bytes);
    assert.equal(run('keytool', ['-importcert', '-noprompt', '-keystore', 'ts.jks', '-storepass', 'changeit', '-file', root, '-alias', 'root'], dir).status, 0);
    const verifiedJar = run('jarsigner', ['-verify', '-strict', '-keystore', 'ts.jks', '-storepass', 'changeit', signedJar], dir);
    assert.ok(verifiedJar.status === 0 && /jar verified\./.test(verifiedJar.out), verifiedJar.out);
    // A class replaced after signing, the manifest kept: jarsigner refuses it.
    const badClasses = join(dir, 'bad');
    mkdirSync(join(badClasses, 'com', 'acme'), { recursive: true });
    writeFileSync(join(badClasses, 'com', 'acme', 'App.class'), Buffer.from('cafebabe00000035', 'hex'));
    const badJar = join(dir, 'bad.jar');
    writeFileSync(badJar, readFileSync(signedJar));
    assert.equal(run('jar', ['--update', '--file', badJar, '-C', badClasses, '.']).status, 0);
    const rejectedJar = run('jarsigner', ['-verify', '-strict', '-keystore', 'ts.jks', '-storepass', 'changeit', badJar], dir);
    assert.ok(rejectedJar.status !== 0 && /digest error/.test(rejectedJar.out), rejectedJar.out);
  });
});
