// The PKI and TSA commands without a node: their options parsed as main parses them, and run against
// a stub client, checking files written (keys 0600, never overwritten), requests sent and exit codes.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { buildTimeStampQuery, type CofferClient, type IssueRequest, type IssuedView } from '../../client/index.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import { openssl, tempDir } from '../../pki/pki-test-kit.ts';
import { parseCsr } from '../../pki/x509/csr.ts';
import { caProfileOf, commaList, createCaRequestOf, issueSourceOf, revocationReasonOf, serialOf } from './pki-arguments.ts';
import { timeStampQueryOf } from './tsa-commands.ts';
import { argsOf, command, throwsCode } from '../command-test-kit.ts';

const LEAF = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const CA_CHAIN = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n';




/**
 * Runs a command with a stub client, capturing what it prints. The commands print text; the test
 * runner reports to this same stdout in binary frames meanwhile, so bytes are passed through.
 */
async function runWith(t: TestContext, name: string, argv: readonly string[], client: unknown): Promise<{ status: number | undefined; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout) as (chunk: string | Uint8Array, callback?: (error?: Error | null) => void) => boolean;
  t.mock.method(process.stdout, 'write', (chunk: string | Uint8Array, callback?: (error?: Error | null) => void) => {
    if (typeof chunk !== 'string') return write(chunk, callback);
    stdout += chunk;
    callback?.();
    return true;
  });
  try {
    const args = argsOf(name, argv);
    const status = await command(name).run({ args, json: args.flag('json'), client: () => client as CofferClient });
    return { status, stdout };
  } finally {
    t.mock.restoreAll();
  }
}

/** A client whose pki.issue records the request and answers (or fails) as told. */
function issuingClient(answer: IssuedView | Error): { client: unknown; requests: IssueRequest[] } {
  const requests: IssueRequest[] = [];
  const issue = (_ca: string, request: IssueRequest): Promise<IssuedView> => {
    requests.push(request);
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return { client: { pki: { issue } }, requests };
}

const ISSUED = { caId: 'ca', serialNumber: '0a', subject: 'CN=agent', certificate: LEAF, chain: CA_CHAIN } as unknown as IssuedView;

describe('pki arguments', () => {
  it('takes exactly one issuance source, and --subject with --for-key and --new-key only', () => {
    const issue = (argv: string[]): ReturnType<typeof issueSourceOf> => issueSourceOf(argsOf('pki issue', ['acme/tls', ...argv]));
    assert.deepEqual(issue(['--csr', 'r.csr']), { kind: 'csr', file: 'r.csr' });
    assert.deepEqual(issue(['--for-key', 'acme/server', '--subject', 'CN=s']), { kind: 'coffer-key', key: 'acme/server' });
    assert.deepEqual(issue(['--new-key', 'agent.key', '--subject', 'CN=a']), { kind: 'new-key', file: 'agent.key' });
    throwsCode(() => issue([]), 'INVALID_ARGUMENT');
    throwsCode(() => issue(['--csr', 'r.csr', '--new-key', 'k']), 'INVALID_ARGUMENT');
    throwsCode(() => issue(['--csr', 'r.csr', '--subject', 'CN=x']), 'INVALID_ARGUMENT');
    throwsCode(() => issue(['--for-key', 'acme/server']), 'INVALID_ARGUMENT');
  });

  it('reads comma lists, a CA request and its profile; no profile options give no profile', () => {
    assert.deepEqual(commaList(argsOf('pki csr', ['k', '--eku', 'codeSigning, timeStamping,']), 'eku'), ['codeSigning', 'timeStamping']);
    throwsCode(() => commaList(argsOf('pki csr', ['k', '--eku', ',']), 'eku'), 'INVALID_ARGUMENT');
    const args = argsOf('pki ca', [
      'create', '--name', 'tls', '--signing-key', 'acme/ca-key', '--subject', 'CN=TLS', '--parent', 'acme/root', '--days', '730', '--path-length', '0',
      '--max-days', '90', '--default-days', '30', '--eku', 'serverAuth,clientAuth', '--key-usage', 'digitalSignature', '--permit-dns', 'acme.example',
      '--permit-dns', 'acme.test', '--exclude-email', 'spam.example', '--crl-hours', '24', '--crl-url', 'http://crl.acme.example/tls.crl',
    ]);
    assert.deepEqual(createCaRequestOf(args), {
      name: 'tls', key: 'acme/ca-key', subject: 'CN=TLS', parent: 'acme/root', validityDays: 730, pathLength: 0,
      profile: {
        defaultValidityDays: 30, maxValidityDays: 90, keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth', 'clientAuth'],
        permittedDnsDomains: ['acme.example', 'acme.test'], excludedEmailDomains: ['spam.example'], crlValidityHours: 24, crlDistributionUrl: 'http://crl.acme.example/tls.crl',
      },
    });
    assert.equal(caProfileOf(argsOf('pki ca', ['create', '--name', 'r'])), undefined);
    throwsCode(() => createCaRequestOf(argsOf('pki ca', ['create', '--name', 'r', '--signing-key', 'a/b', '--subject', 'CN=r', '--path-length', '11'])), 'INVALID_ARGUMENT');
  });

  it('checks revocation reasons and serial numbers', () => {
    assert.equal(revocationReasonOf(argsOf('pki revoke', ['c', '--reason', 'keyCompromise'])), 'keyCompromise');
    assert.equal(revocationReasonOf(argsOf('pki revoke', ['c'])), undefined);
    throwsCode(() => revocationReasonOf(argsOf('pki revoke', ['c', '--reason', 'removeFromCRL'])), 'INVALID_ARGUMENT');
    assert.equal(serialOf(argsOf('pki revoke', ['c', '--serial', '0A:1b:FF'])), '0A:1b:FF');
    throwsCode(() => serialOf(argsOf('pki revoke', ['c', '--serial', 'xyz'])), 'INVALID_ARGUMENT');
    throwsCode(() => serialOf(argsOf('pki revoke', ['c', '--serial', 'a'.repeat(41)])), 'INVALID_ARGUMENT');
  });

  it('refuses options of another pki ca action before calling the node', async (t) => {
    await assert.rejects(runWith(t, 'pki ca', ['list', '--subject', 'CN=x'], {}), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assert.rejects(runWith(t, 'pki ca', ['rename'], {}), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
  });
});

describe('coffer pki issue --new-key', () => {
  it('writes a new P-256 key 0600, sends a CSR for it that openssl verifies, and writes the certificate and full chain', async (t) => {
    const dir = tempDir(t);
    const { client, requests } = issuingClient(ISSUED);
    const keyFile = join(dir, 'agent.key');
    const { status, stdout } = await runWith(t, 'pki issue', [
      'acme/tls', '--new-key', keyFile, '--subject', 'CN=build-agent-7, O=Acme', '--dns', 'agent7.acme.example', '--eku', 'clientAuth', '--days', '30',
      '--out', join(dir, 'cert.pem'), '--chain-out', join(dir, 'chain.pem'),
    ], client);
    assert.equal(status, 0);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const privateKey = createPrivateKey(readFileSync(keyFile));
    assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.ok(request !== undefined);
    assert.equal(request.validityDays, 30);
    const csrPem = String(request.csr);
    writeFileSync(join(dir, 'sent.csr'), csrPem);
    const verified = await openssl(['req', '-in', 'sent.csr', '-verify', '-noout', '-text'], dir);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /DNS:agent7\.acme\.example/);
    assert.ok(parseCsr(csrPem).publicKeyDer.equals(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })), 'the CSR is for the key written');
    assert.equal(readFileSync(join(dir, 'cert.pem'), 'utf8'), LEAF);
    assert.equal(readFileSync(join(dir, 'chain.pem'), 'utf8'), `${LEAF}${CA_CHAIN}`);
    assert.match(stdout, /keyFile: +.*agent\.key/);
  });

  it('never overwrites an existing key file, and asks the node for nothing then', async (t) => {
    const dir = tempDir(t);
    const keyFile = join(dir, 'agent.key');
    writeFileSync(keyFile, 'precious');
    const { client, requests } = issuingClient(ISSUED);
    await assert.rejects(runWith(t, 'pki issue', ['acme/tls', '--new-key', keyFile, '--subject', 'CN=a'], client), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    assert.equal(readFileSync(keyFile, 'utf8'), 'precious');
    assert.equal(requests.length, 0);
  });

  it('removes the key file when the CA refuses, so the name can be used again', async (t) => {
    const dir = tempDir(t);
    const keyFile = join(dir, 'agent.key');
    const { client } = issuingClient(new CofferError('CA_POLICY_VIOLATION', 'no'));
    await assert.rejects(runWith(t, 'pki issue', ['acme/tls', '--new-key', keyFile, '--subject', 'CN=a'], client), (error: unknown) => isCofferError(error, 'CA_POLICY_VIOLATION'));
    assert.equal(existsSync(keyFile), false);
  });
});

describe('coffer tsa', () => {
  it('streams --data through the hash into a query openssl reads; --digest and --query give the same imprint', async (t) => {
    const dir = tempDir(t);
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 'release bytes ');
    writeFileSync(join(dir, 'release.bin'), data);
    const digest = createHash('sha384').update(data).digest();
    const fromData = await timeStampQueryOf(argsOf('tsa', ['acme/tsa', '--data', join(dir, 'release.bin'), '--hash', 'SHA-384', '--out', 'x.tsr']));
    writeFileSync(join(dir, 'q.tsq'), fromData);
    const text = await openssl(['ts', '-query', '-in', 'q.tsq', '-text'], dir);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /Hash Algorithm: sha384/);
    assert.match(text.stdout, /Nonce: 0x[0-9A-F]+/);
    const fromDigest = await timeStampQueryOf(argsOf('tsa', ['k', '--digest', digest.toString('hex'), '--hash', 'SHA-384', '--no-nonce', '--out', 'x']));
    assert.ok(fromDigest.equals(buildTimeStampQuery({ digest }, { hash: 'SHA-384', nonce: false })));
    assert.ok(fromDigest.equals(buildTimeStampQuery({ data }, { hash: 'SHA-384', nonce: false })), 'streamed and whole-buffer digests agree');
    const passed = await timeStampQueryOf(argsOf('tsa', ['k', '--query', join(dir, 'q.tsq'), '--out', 'x']));
    assert.ok(passed.equals(fromData));
  });

  it('refuses no source, two sources, a bad hash or digest, and query options with --query', async () => {
    for (const argv of [[], ['--data', 'a', '--digest', 'ab'], ['--digest', 'abc'], ['--digest', 'ab', '--hash', 'SHA-1'], ['--query', 'q.tsq', '--no-nonce'], ['--query', 'q', '--hash', 'SHA-256']]) {
      await assert.rejects(timeStampQueryOf(argsOf('tsa', ['k', ...argv, '--out', 'x'])), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'), argv.join(' '));
    }
    await assert.rejects(timeStampQueryOf(argsOf('tsa', ['k', '--digest', 'abcd', '--out', 'x'])), (error: unknown) => isCofferError(error, 'INVALID_DIGEST'));
  });

  it('writes a granted reply and exits 0; a rejection writes nothing and exits 1', async (t) => {
    const dir = tempDir(t);
    const reply = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]);
    const stamps: unknown[] = [];
    const tsaClient = (granted: boolean): unknown => ({
      tsa: {
        stamp: (key: unknown, query: Buffer) => {
          stamps.push({ key, query });
          return Promise.resolve(granted ? { reply, granted, status: 0, serialNumber: '0c' } : { reply, granted, status: 2, failure: 'badAlg' });
        },
      },
    });
    const digest = createHash('sha256').update('x').digest('hex');
    const out = join(dir, 'stamp.tsr');
    const granted = await runWith(t, 'tsa', ['stamper', '--project', 'acme', '--digest', digest, '--out', out], tsaClient(true));
    assert.equal(granted.status, 0);
    assert.ok(readFileSync(out).equals(reply));
    assert.match(granted.stdout, /serialNumber: +0c/);
    assert.deepEqual((stamps[0] as { key: unknown }).key, { project: 'acme', name: 'stamper' });
    const rejectedOut = join(dir, 'rejected.tsr');
    const rejected = await runWith(t, 'tsa', ['acme/stamper', '--digest', digest, '--out', rejectedOut], tsaClient(false));
    assert.equal(rejected.status, 1);
    assert.equal(existsSync(rejectedOut), false);
    assert.match(rejected.stdout, /failure: +badAlg/);
  });
});
