// `coffer dev` as `npm start` runs it: a child process on free ports in a temporary data directory,
// ready when it says so; the curl example it prints, run with the real curl, and its output
// decrypted through the VSSM API; a clean stop on SIGTERM; and on the next start the same CA and
// domain, with what was removed (a certificate, the password file) repaired.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CofferClient } from '../src/client/index.ts';
import { tempDir } from './node-kit.ts';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
/** The first start makes a PKI and hashes a password; allow for a slow, shared machine. */
const READY_TIMEOUT_MS = 60_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => {
    done();
  }));
  return port;
}

interface DevProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything printed on stdout up to `coffer: ready`. */
  readonly banner: string;
  output(): string;
}

async function startDev(env: Record<string, string>): Promise<DevProcess> {
  const child = spawn(process.execPath, [MAIN, 'dev'], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const banner = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`coffer dev was not ready within ${READY_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`));
    }, READY_TIMEOUT_MS);
    const check = (): void => {
      const end = stdout.indexOf('coffer: ready\n');
      if (end < 0) return;
      clearTimeout(timer);
      done(stdout.slice(0, end));
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`coffer dev exited (${String(code)}) before it was ready:\n${stdout}\n${stderr}`));
    });
  });
  return { child, banner, output: () => `${stdout}${stderr}` };
}

async function stop(dev: DevProcess): Promise<number | null> {
  const exited = new Promise<number | null>((done) => dev.child.on('exit', (code) => {
    done(code);
  }));
  dev.child.kill('SIGTERM');
  return exited;
}

function line(banner: string, pattern: RegExp): string {
  const found = banner.split('\n').map((l) => l.trim()).find((l) => pattern.test(l));
  assert.ok(found !== undefined, `no line matching ${String(pattern)} in:\n${banner}`);
  return found;
}

/** POST JSON with the dev user's certificate; the answer's status and parsed body. */
function postAsUser(dir: string, url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = httpsRequest(url, {
      method: 'POST', agent: false, ca: readFileSync(join(dir, 'ca.pem')), cert: readFileSync(join(dir, 'user.pem')), key: readFileSync(join(dir, 'user.key')),
      headers: { 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
        done({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
      });
    });
    req.on('error', fail);
    req.end(payload);
  });
}

describe('coffer dev (npm start)', () => {
  it('serves the printed curl example, stops cleanly, and reuses and repairs its setup on the next start', { timeout: 4 * READY_TIMEOUT_MS }, async (t) => {
    const curl = spawnSync('curl', ['--version']);
    assert.equal(curl.error, undefined, 'curl must be installed (the CI script installs it): this test runs the printed example with it');
    const dir = join(tempDir(t, 'coffer-dev-'), 'dev');
    const [apiPort, healthPort, signerPort] = [await freePort(), await freePort(), await freePort()];
    const env = { COFFER_DATA_DIR: dir, COFFER_API_PORT: String(apiPort), COFFER_HEALTH_PORT: String(healthPort), COFFER_SIGNER_PORT: String(signerPort) };

    const first = await startDev(env);
    t.after(() => first.child.kill('SIGKILL'));
    assert.match(first.banner, new RegExp(`API +https://localhost:${apiPort} `));
    assert.match(first.banner, /\(new\)/);
    const domainId = /domain ([0-9a-f-]{36})/.exec(first.banner)?.[1];
    assert.ok(domainId !== undefined);
    const example = line(first.banner, /^curl /);
    assert.equal(example, `curl --cacert ${dir}/ca.pem --cert ${dir}/user.pem --key ${dir}/user.key -d '{"input":"AAAA", "keyName":"foo", "algorithm": "AES/GCM/NoPadding"}' https://localhost:${apiPort}/REST/v1/symmetric/encrypt`);
    line(first.banner, /^echo hello \| .*src\/cli\/main\.ts encrypt dev\/foo \| .* decrypt$/);

    // The example exactly as printed, by a shell and the real curl; then its output decrypted.
    const run = spawnSync('sh', ['-c', example], { encoding: 'utf8' });
    assert.equal(run.status, 0, `curl failed: ${run.stderr}`);
    const encrypted = JSON.parse(run.stdout) as { output?: unknown };
    assert.equal(typeof encrypted.output, 'string');
    const decrypted = await postAsUser(dir, `https://localhost:${apiPort}/REST/v1/symmetric/decrypt`, { input: encrypted.output, keyName: 'foo', algorithm: 'AES/GCM/NoPadding' });
    assert.equal(decrypted.status, 200);
    assert.equal(decrypted.body['output'], 'AAAA');
    const health = await fetch(`http://127.0.0.1:${healthPort}/REST/v1/healthcheck`);
    assert.equal(await health.text(), 'running');

    // The signing service beside it: the printed example, as printed, with the exported variables; openssl verifies the signature.
    assert.match(first.banner, new RegExp(`signer +https://localhost:${signerPort} `));
    const exported = line(first.banner, /^export COFFER_URL=/);
    const signing = line(first.banner, /^export COFFER_SIGNER_URL=/);
    const artifact = join(dir, 'artifact.txt');
    writeFileSync(artifact, 'a release to sign\n');
    const signed = spawnSync('sh', ['-c', `${exported}; ${signing.replace('README.md', artifact)}`], { encoding: 'utf8', cwd: process.cwd() });
    assert.equal(signed.status, 0, `signing submit failed: ${signed.stderr}`);
    assert.match(signed.stdout, /state: +signed/);
    const publicKey = join(dir, 'code-signing.pub.pem');
    const pub = spawnSync('sh', ['-c', `${exported}; ${line(first.banner, /^echo hello/).split(' encrypt ')[0]?.replace('echo hello | ', '') ?? ''} keys public-key dev/code-signing --out ${publicKey}`], { encoding: 'utf8' });
    assert.equal(pub.status, 0, pub.stderr);
    const verified = spawnSync('openssl', ['dgst', '-sha256', '-verify', publicKey, '-signature', `${artifact}.sig`, artifact], { encoding: 'utf8' });
    assert.match(verified.stdout, /Verified OK/, verified.stderr);

    assert.equal(await stop(first), 0, first.output());
    assert.match(first.output(), /coffer: stopped/);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const password = readFileSync(join(dir, 'user.password'), 'utf8').trim();

    // Second start: same CA, same domain; a removed officer certificate and password file come back.
    rmSync(join(dir, 'officer.pem'));
    rmSync(join(dir, 'user.password'));
    const second = await startDev(env);
    t.after(() => second.child.kill('SIGKILL'));
    assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), ca);
    assert.match(second.banner, new RegExp(`domain ${domainId} \\(reused\\)`));
    assert.match(line(second.banner, /^set up: /), /dev-officer's certificate binding.*dev-user's password/);
    const newPassword = readFileSync(join(dir, 'user.password'), 'utf8').trim();
    assert.notEqual(newPassword, password);
    const url = `https://localhost:${apiPort}`;
    const officer = new CofferClient({ url, ca: join(dir, 'ca.pem'), cert: join(dir, 'officer.pem'), key: join(dir, 'officer.key') });
    const anonymous = new CofferClient({ url, ca: join(dir, 'ca.pem') });
    try {
      assert.equal((await officer.auth.whoami()).name, 'dev-officer');
      assert.equal((await anonymous.auth.login('dev-user', newPassword)).principal.defaultProject, 'dev');
      assert.equal((await officer.domain.status()).domainId, domainId);
    } finally {
      officer.close();
      anonymous.close();
    }
    assert.equal(await stop(second), 0, second.output());
  });
});
