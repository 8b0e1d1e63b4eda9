// The SDK's own failures, against servers that misbehave on purpose: nothing listening, a socket that
// never answers, a certificate from another CA, answers that are not the API's JSON.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki, type DevPki } from '../pki/index.ts';
import { CofferApiError, CofferClient } from './index.ts';

async function pki(t: TestContext): Promise<DevPki> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-client-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return ensureDevPki(dir);
}

async function listening(t: TestContext, server: Server | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  }));
  return (server.address() as AddressInfo).port;
}

/** An HTTPS server with the dev server certificate that answers every request with `status` and `body`. */
async function answering(t: TestContext, keys: DevPki, status: number, body: string): Promise<string> {
  const server = createHttpsServer({ cert: readFileSync(keys.serverCertPath), key: readFileSync(keys.serverKeyPath) }, (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html', 'x-request-id': 'req-from-server' }).end(body);
  });
  return `https://127.0.0.1:${await listening(t, server)}`;
}

describe('CofferClient transport errors', () => {
  it('refuses URLs that are not https and half a client identity', () => {
    assert.throws(() => new CofferClient({ url: 'http://127.0.0.1:8443' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new CofferClient({ url: 'not a url' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new CofferClient({ url: 'https://127.0.0.1:8443', cert: '/nonexistent.pem' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new CofferClient({ url: 'https://127.0.0.1:8443', ca: '/nonexistent/ca.pem' }), { code: 'INVALID_ARGUMENT' });
  });

  it('reports an unreachable node as CLIENT_UNAVAILABLE', async (t) => {
    const server = createTcpServer();
    const port = await listening(t, server);
    await new Promise<void>((resolve) => server.close(() => {
      resolve();
    }));
    const client = new CofferClient({ url: `https://127.0.0.1:${port}` });
    t.after(() => {
      client.close();
    });
    await assert.rejects(client.domain.status(), { code: 'CLIENT_UNAVAILABLE' });
  });

  it('gives up after timeoutMs with CLIENT_TIMEOUT', async (t) => {
    // Accepts connections and never says a word: not even the TLS handshake completes.
    const sockets: Socket[] = [];
    const server = createTcpServer((socket) => sockets.push(socket));
    t.after(() => {
      for (const s of sockets) s.destroy();
    });
    const port = await listening(t, server);
    const client = new CofferClient({ url: `https://127.0.0.1:${port}`, timeoutMs: 200 });
    t.after(() => {
      client.close();
    });
    const started = Date.now();
    await assert.rejects(client.domain.status(), { code: 'CLIENT_TIMEOUT' });
    assert.ok(Date.now() - started < 5000);
  });

  it('reports a server certificate the CA did not issue as CLIENT_TLS_FAILED', async (t) => {
    const [ours, theirs] = await Promise.all([pki(t), pki(t)]);
    const url = await answering(t, theirs, 200, '{}');
    const client = new CofferClient({ url, ca: ours.caPath });
    t.after(() => {
      client.close();
    });
    await assert.rejects(client.domain.status(), { code: 'CLIENT_TLS_FAILED' });
  });

  it('reports answers that are not the API JSON as CLIENT_PROTOCOL_ERROR, with status and request id', async (t) => {
    const keys = await pki(t);
    const html = new CofferClient({ url: await answering(t, keys, 502, '<html>bad gateway</html>'), ca: keys.caPath });
    const text = new CofferClient({ url: await answering(t, keys, 200, 'hello'), ca: keys.caPath });
    const foreign = new CofferClient({ url: await answering(t, keys, 418, '{"error":{"code":"TEAPOT","message":"short and stout"}}'), ca: keys.caPath });
    t.after(() => {
      for (const c of [html, text, foreign]) c.close();
    });
    const gateway = await html.domain.status().then(() => undefined, (e: unknown) => e);
    assert.ok(gateway instanceof CofferApiError);
    assert.equal(gateway.code, 'CLIENT_PROTOCOL_ERROR');
    assert.equal(gateway.status, 502);
    assert.equal(gateway.requestId, 'req-from-server');
    await assert.rejects(text.domain.status(), { code: 'CLIENT_PROTOCOL_ERROR', status: 200 });
    await assert.rejects(foreign.domain.status(), (error: unknown) => error instanceof CofferApiError && error.code === 'CLIENT_PROTOCOL_ERROR' && error.status === 418 && error.message.includes('TEAPOT'));
  });
});
