import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { certificateFingerprint, ensureDevPki, issueClientCertificate, type DevPki } from './index.ts';
import { tempDir } from './pki-test-kit.ts';

/** What the server saw of one accepted connection. */
interface Accepted {
  readonly authorized: boolean;
  readonly raw: Buffer;
  readonly fingerprint256: string;
  readonly subjectCn: unknown;
}

interface ClientOutcome {
  readonly data: string;
  readonly error?: NodeJS.ErrnoException;
}

let pki: DevPki;
let foreign: DevPki;
let server: Server;
let port: number;
const accepted: Accepted[] = [];
/** Handshakes the server refused: the error and, for a certificate it did not trust, why. */
const refused: { readonly code: unknown; readonly authorizationError: unknown }[] = [];

const cleanups: (() => void)[] = [];

before(async () => {
  const holder = { after: (cleanup: () => void) => cleanups.push(cleanup) };
  pki = await ensureDevPki(tempDir(holder));
  foreign = await ensureDevPki(tempDir(holder));
  server = createServer({
    key: readFileSync(pki.serverKeyPath),
    cert: readFileSync(pki.serverCertPath),
    ca: readFileSync(pki.caPath),
    requestCert: true,
    rejectUnauthorized: true,
  }, (socket: TLSSocket) => {
    const peer = socket.getPeerCertificate();
    accepted.push({ authorized: socket.authorized, raw: peer.raw, fingerprint256: peer.fingerprint256, subjectCn: peer.subject.CN });
    socket.end('ok');
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    refused.push({ code: error.code, authorizationError: socket.authorizationError });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.close();
  for (const cleanup of cleanups) cleanup();
});

/** Connects with `options`, reads until the server closes, and reports the data or the error. */
async function talk(options: ConnectionOptions): Promise<ClientOutcome> {
  const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(pki.caPath), ...options });
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  try {
    await once(socket, 'end');
    return { data };
  } catch (error) {
    return { data, error: error as NodeJS.ErrnoException };
  } finally {
    socket.destroy();
  }
}

function client(credentials: { certPath: string; keyPath: string }): ConnectionOptions {
  return { cert: readFileSync(credentials.certPath), key: readFileSync(credentials.keyPath) };
}

describe('mutual TLS with the development PKI', () => {
  it('accepts the dev user, and the server sees the fingerprint certificateFingerprint computes', async () => {
    const before = accepted.length;
    const outcome = await talk({ ...client(pki.user), servername: 'localhost' });
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.data, 'ok');
    const seen = accepted[before];
    assert.ok(seen !== undefined);
    assert.equal(seen.authorized, true);
    assert.equal(seen.subjectCn, 'dev-user');
    const fromFile = certificateFingerprint(readFileSync(pki.user.certPath, 'utf8'));
    assert.equal(createHash('sha256').update(seen.raw).digest('hex'), fromFile);
    assert.equal(certificateFingerprint(seen.raw), fromFile);
    assert.equal(seen.fingerprint256.replaceAll(':', '').toLowerCase(), fromFile);
    assert.equal(pki.user.fingerprint, fromFile);
  });

  it('accepts the dev officer, reached by IP address (checked against the IP SANs)', async () => {
    const before = accepted.length;
    const outcome = await talk(client(pki.officer));
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.data, 'ok');
    const seen = accepted[before];
    assert.ok(seen !== undefined);
    assert.equal(certificateFingerprint(seen.raw), pki.officer.fingerprint);
  });

  it('accepts a client certificate issued by issueClientCertificate from the dev CA', async () => {
    const ca = { certPem: readFileSync(pki.caPath, 'utf8'), keyPem: readFileSync(pki.caKeyPath, 'utf8') };
    const issued = await issueClientCertificate(ca, { commonName: 'build-bot.01' });
    const before = accepted.length;
    const outcome = await talk({ cert: issued.certPem, key: issued.keyPem ?? '' });
    assert.equal(outcome.data, 'ok');
    const seen = accepted[before];
    assert.ok(seen !== undefined);
    assert.equal(seen.subjectCn, 'build-bot.01');
    assert.equal(certificateFingerprint(seen.raw), issued.fingerprint);
  });

  it('refuses a client certificate from another development CA', async () => {
    const acceptedBefore = accepted.length;
    const refusedBefore = refused.length;
    const outcome = await talk(client(foreign.user));
    // In TLS 1.3 the client finishes its side first; the server's refusal then closes the
    // connection (an alert or a plain close, depending on timing), and no data ever arrives.
    assert.equal(outcome.data, '');
    assert.equal(accepted.length, acceptedBefore);
    assert.equal(refused.length, refusedBefore + 1);
    // Node destroys the socket once OpenSSL's verification failed; the reason is kept on the socket.
    assert.equal(refused.at(-1)?.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses a client without a certificate', async () => {
    const acceptedBefore = accepted.length;
    const outcome = await talk({});
    assert.ok(outcome.error !== undefined);
    assert.equal(accepted.length, acceptedBefore);
    assert.equal(refused.at(-1)?.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
  });

  it('is refused by the client when the server is not from the trusted CA', async () => {
    const outcome = await talk({ ...client(pki.user), ca: readFileSync(foreign.caPath), servername: 'localhost' });
    // OpenSSL completes the server's chain from its `ca` store, so the client sees an untrusted root.
    assert.equal(outcome.error?.code, 'SELF_SIGNED_CERT_IN_CHAIN');
    assert.equal(outcome.data, '');
  });

  it('is refused by the client for a hostname the server certificate does not name', async () => {
    const outcome = await talk({ ...client(pki.user), servername: 'elsewhere.test' });
    assert.equal(outcome.error?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
