// The `coffer` command against a real node over mutual TLS: the domain set up from the command line
// (custodian keygen, domain init, custodian unseal), identities, keys, binary-safe encrypt/decrypt
// through files and stdin, sign and verify, --json output, and errors as `coffer: CODE: message`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startTlsNode, USER_PASSWORD, type TlsNode } from './tls-node-kit.ts';

const MAIN = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

interface Run {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `coffer args…` with the given stdin and environment (no COFFER_* from the test's own). */
function coffer(args: readonly string[], options: { input?: Buffer | string; env?: Record<string, string> } = {}): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_')));
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.end(options.input ?? '');
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (status) => {
      done({ status, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

function ok(run: Run, what: string): Buffer {
  assert.equal(run.status, 0, `${what}: exit ${String(run.status)}, stderr: ${run.stderr}`);
  return run.stdout;
}

function as(node: TlsNode, who: 'officer' | 'user' | 'none'): Record<string, string> {
  const base = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath };
  if (who === 'none') return base;
  const credentials = node.pki[who];
  return { ...base, COFFER_CERT: credentials.certPath, COFFER_KEY: credentials.keyPath };
}

describe('the coffer command against a real node', () => {
  it('sets up the domain, identities and keys, and runs crypto on files and stdin', async (t) => {
    const node = await startTlsNode(t);
    const files = (name: string): string => join(node.dir, name);
    const officer = { env: as(node, 'officer') };
    const user = { env: as(node, 'user') };

    // Custodian key pair, init with the first officer's certificate, unseal by the custodian.
    const keyFile = files('custodian.json');
    const assignment = ok(await coffer(['custodian', 'keygen', '--out', keyFile, '--name', 'carol']), 'keygen').toString().trim();
    assert.match(assignment, /^carol=[A-Za-z0-9_-]{43}$/);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    ok(await coffer(['domain', 'init', '--custodian', assignment, '--threshold', '1', '--officer', 'olivia', '--officer-cert', node.pki.officer.certPath], { env: as(node, 'none') }), 'domain init');
    const unsealed = JSON.parse(ok(await coffer(['custodian', 'unseal', '--key-file', keyFile, '--json'], { env: as(node, 'none') }), 'unseal').toString()) as Record<string, unknown>;
    assert.equal(unsealed['state'], 'UNSEALED');
    assert.match(ok(await coffer(['domain', 'status'], officer), 'status').toString(), /^state: +UNSEALED$/m);

    // Identities: a project, a user bound to user.pem with a password.
    ok(await coffer(['projects', 'create', 'alpha'], officer), 'projects create');
    writeFileSync(files('password'), `${USER_PASSWORD}\n`);
    ok(await coffer(['principals', 'create', 'ursula', '--role', 'user', '--project', 'alpha', '--bind-cert', node.pki.user.certPath, '--password-file', files('password')], officer), 'principals create');
    const principals = JSON.parse(ok(await coffer(['principals', 'list', '--json'], officer), 'principals list').toString()) as { name: string }[];
    assert.deepEqual(principals.map((p) => p.name), ['olivia', 'ursula']);

    // Keys, with --json output that parses.
    const created = JSON.parse(ok(await coffer(['keys', 'create', 'alpha/files', '--spec', 'AES_256', '--usage', 'ENCRYPT_DECRYPT', '--json'], user), 'keys create').toString()) as Record<string, unknown>;
    assert.equal(created['name'], 'files');
    assert.equal(created['owner'], 'ursula');
    ok(await coffer(['keys', 'create', 'alpha/release', '--spec', 'EC_P256', '--usage', 'SIGN_VERIFY'], user), 'keys create');
    const listed = JSON.parse(ok(await coffer(['keys', 'list', '--project', 'alpha', '--json'], user), 'keys list').toString()) as { name: string }[];
    assert.deepEqual(listed.map((k) => k.name), ['files', 'release']);
    assert.match(ok(await coffer(['keys', 'list', '--project', 'alpha'], user), 'keys list').toString(), /^NAME +PROJECT +SPEC/);

    // encrypt a binary file to a file, decrypt it from stdin to stdout: byte for byte.
    const plaintext = Buffer.concat([randomBytes(4096), Buffer.from([0, 10, 13, 26, 255])]);
    writeFileSync(files('plain.bin'), plaintext);
    ok(await coffer(['encrypt', 'alpha/files', '--in', files('plain.bin'), '--out', files('cipher.bin'), '--context', 'purpose=cli'], user), 'encrypt');
    const ciphertext = readFileSync(files('cipher.bin'));
    assert.deepEqual(ok(await coffer(['decrypt', '--in', '-', '--context', 'purpose=cli'], { ...user, input: ciphertext }), 'decrypt'), plaintext);
    // The wrong context: the node's code on stderr, exit 1, nothing on stdout.
    const wrong = await coffer(['decrypt', '--context', 'purpose=other'], { ...user, input: ciphertext });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /^coffer: CRYPTO_DECRYPT_FAILED: /);
    assert.equal(wrong.stdout.length, 0);

    // sign and verify; the signature checks out with node:crypto and the exported public key.
    ok(await coffer(['sign', 'alpha/release', '--algorithm', 'ECDSA_SHA_256', '--in', files('plain.bin'), '--out', files('plain.sig')], user), 'sign');
    assert.equal(ok(await coffer(['verify', 'alpha/release', '--algorithm', 'ECDSA_SHA_256', '--signature', files('plain.sig')], { ...user, input: plaintext }), 'verify').toString(), 'valid\n');
    const forged = await coffer(['verify', 'alpha/release', '--algorithm', 'ECDSA_SHA_256', '--signature', files('plain.sig')], { ...user, input: 'something else' });
    assert.equal(forged.status, 1);
    assert.equal(forged.stdout.toString(), 'invalid\n');
    const pem = ok(await coffer(['keys', 'public-key', 'alpha/release'], user), 'public-key').toString();
    assert.ok(verifySignature('sha256', plaintext, createPublicKey(pem), readFileSync(files('plain.sig'))));
    const signed = JSON.parse(ok(await coffer(['sign', 'alpha/release', '--algorithm', 'ECDSA_SHA_256', '--json'], { ...user, input: 'json' }), 'sign --json').toString()) as Record<string, unknown>;
    assert.equal(signed['keyVersion'], 1);
    assert.equal(typeof signed['signature'], 'string');
    const random = JSON.parse(ok(await coffer(['random', '24', '--json'], user), 'random').toString()) as { random: string };
    assert.equal(Buffer.from(random.random, 'base64').length, 24);

    // Password login gives a token that works without a certificate.
    const token = ok(await coffer(['login', 'ursula'], { env: as(node, 'none'), input: `${USER_PASSWORD}\n` }), 'login').toString().trim();
    assert.match(ok(await coffer(['whoami'], { env: { ...as(node, 'none'), COFFER_TOKEN: token } }), 'whoami').toString(), /^name: +ursula$/m);
  });

  it('prints errors as `coffer: CODE: message` with exit 1 for the node, 2 for usage', async (t) => {
    const node = await startTlsNode(t);
    const notFound = await coffer(['keys', 'get', 'alpha/missing'], { env: as(node, 'user') });
    assert.equal(notFound.status, 1);
    assert.match(notFound.stderr, /^coffer: DOMAIN_UNINITIALIZED: /);
    const noSpec = await coffer(['keys', 'create', 'alpha/x', '--usage', 'SIGN_VERIFY'], { env: as(node, 'user') });
    assert.equal(noSpec.status, 2);
    assert.match(noSpec.stderr, /^coffer: INVALID_ARGUMENT: --spec is required/);
    const unknownOption = await coffer(['keys', 'list', '--colour'], { env: as(node, 'user') });
    assert.equal(unknownOption.status, 2);
    assert.match(unknownOption.stderr, /^coffer: INVALID_ARGUMENT: /);
    const noUrl = await coffer(['domain', 'status']);
    assert.equal(noUrl.status, 2);
    assert.match(noUrl.stderr, /COFFER_URL/);
    const unreachable = await coffer(['domain', 'status', '--url', 'https://127.0.0.1:1']);
    assert.equal(unreachable.status, 1);
    assert.match(unreachable.stderr, /^coffer: CLIENT_UNAVAILABLE: /);
    assert.equal((await coffer(['nonsense'])).status, 2);
    assert.equal((await coffer(['keys'])).status, 2);
    assert.match(ok(await coffer(['help']), 'help').toString(), /keys create/);
  });
});
