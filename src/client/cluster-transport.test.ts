// The SDK over several nodes, against tiny real HTTPS servers with the dev PKI: discovery, round-robin
// spread, failover of idempotent requests when a node goes away mid-run, the circuit breaker, and the
// Idempotency-Key a write keeps across its retries.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki, type DevPki } from '../pki/index.ts';
import { CofferClient } from './index.ts';

type Mode = 'ok' | 'reset' | 'sealed' | 'store-down';

interface FakeNode {
  readonly url: string;
  readonly seen: { method: string; path: string; idempotencyKey: string | undefined; authorization: string | undefined }[];
  mode: Mode;
  /** The /v1/cluster/nodes answer; undefined: 404 ROUTE_NOT_FOUND, as from a node older than clustering. */
  cluster: unknown;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
  hits(path: string): number;
}

async function pki(t: TestContext): Promise<DevPki> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-cluster-client-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return ensureDevPki(dir);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function fakeNode(t: TestContext, keys: DevPki, name: string): Promise<FakeNode> {
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const header = (h: string): string | undefined => (typeof req.headers[h] === 'string' ? req.headers[h] : undefined);
    node.seen.push({ method: req.method ?? '', path, idempotencyKey: header('idempotency-key'), authorization: header('authorization') });
    req.resume();
    req.on('end', () => {
      if (path === '/v1/cluster/nodes') {
        if (node.cluster === undefined) json(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: 'no such endpoint' } });
        else json(res, 200, node.cluster);
        return;
      }
      if (node.mode === 'reset') {
        req.socket.destroy();
        return;
      }
      if (node.mode === 'sealed') {
        json(res, 503, { error: { code: 'DOMAIN_SEALED', message: 'the node is sealed' } });
        return;
      }
      if (node.mode === 'store-down') {
        json(res, 503, { error: { code: 'STORE_UNAVAILABLE', message: 'the store cannot be reached' } });
        return;
      }
      if (path === '/v1/auth/login') json(res, 200, { token: `token-from-${name}`, principal: { name: 'ursula' } });
      else if (path === '/v1/crypto/sign') json(res, 200, { keyId: name, keyVersion: 1, signature: Buffer.from(name).toString('base64') });
      else if (path === '/v1/keys' && req.method === 'POST') json(res, 201, { id: name, name: 'created' });
      else json(res, 200, { node: name, state: 'UNSEALED' });
    });
  };
  const server: Server = createServer({ cert: readFileSync(keys.serverCertPath), key: readFileSync(keys.serverKeyPath) }, handler);
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => {
      resolve();
    }));
  };
  t.after(close);
  const node: FakeNode = {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: [], mode: 'ok', cluster: undefined, close,
    hits: (p) => node.seen.filter((s) => s.path === p).length,
  };
  return node;
}

async function cluster(t: TestContext, count: number): Promise<{ keys: DevPki; nodes: FakeNode[] }> {
  const keys = await pki(t);
  const nodes: FakeNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await fakeNode(t, keys, `node-${i}`));
  return { keys, nodes };
}

function clientOf(t: TestContext, keys: DevPki, seeds: readonly string[], options: { breakerMs?: number; maxAttempts?: number; discovery?: boolean } = {}): CofferClient {
  const client = new CofferClient({ nodes: seeds, ca: keys.caPath, timeoutMs: 5_000, ...options });
  t.after(() => {
    client.close();
  });
  return client;
}

const sign = (client: CofferClient): Promise<string> =>
  client.crypto.sign({ keyId: 'alpha/ec', algorithm: 'ECDSA_SHA_256', message: 'm' }).then((r) => r.keyId);

describe('CofferClient over a cluster', () => {
  it('discovers the live nodes from a seed and spreads requests over the unsealed ones', async (t) => {
    const { keys, nodes } = await cluster(t, 3);
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
    const listing = {
      nodes: [
        { nodeId: 'a', apiUrl: a.url, state: 'UNSEALED', lastHeartbeat: new Date().toISOString(), self: true },
        { nodeId: 'b', apiUrl: `${b.url}/`, state: 'UNSEALED', lastHeartbeat: new Date().toISOString(), self: false },
        { nodeId: 'c', apiUrl: c.url, state: 'SEALED', lastHeartbeat: new Date().toISOString(), self: false },
        { nodeId: 'd', apiUrl: 'http://127.0.0.1:1', state: 'UNSEALED', lastHeartbeat: new Date().toISOString(), self: false },
      ],
    };
    a.cluster = listing;
    const client = clientOf(t, keys, [a.url]);
    const answered: string[] = [];
    for (let i = 0; i < 10; i++) answered.push(await sign(client));
    assert.deepEqual([...client.nodes].sort(), [a.url, b.url].sort());
    assert.equal(answered.filter((n) => n === 'node-0').length, 5);
    assert.equal(answered.filter((n) => n === 'node-1').length, 5);
    assert.equal(c.seen.length, 0, 'a sealed node gets nothing');
    assert.equal(a.hits('/v1/cluster/nodes'), 1, 'discovery once, not per request');
  });

  it('uses the seeds when the nodes predate clustering (ROUTE_NOT_FOUND)', async (t) => {
    const { keys, nodes } = await cluster(t, 2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    const client = clientOf(t, keys, [a.url, b.url]);
    const answered: string[] = [];
    for (let i = 0; i < 6; i++) answered.push(await sign(client));
    assert.deepEqual(client.nodes, [a.url, b.url]);
    assert.deepEqual(answered.sort(), ['node-0', 'node-0', 'node-0', 'node-1', 'node-1', 'node-1']);
  });

  it('fails idempotent requests over to another node when one is closed mid-run', async (t) => {
    const { keys, nodes } = await cluster(t, 3);
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
    const client = clientOf(t, keys, [a.url, b.url, c.url]);
    for (let i = 0; i < 6; i++) await sign(client);
    await b.close();
    // Concurrent and sequential requests alike: none fails.
    const answered = await Promise.all(Array.from({ length: 30 }, () => sign(client)));
    for (let i = 0; i < 10; i++) answered.push(await sign(client));
    assert.equal(answered.includes('node-1'), false);
    assert.ok(answered.filter((n) => n === 'node-0').length > 10);
    assert.ok(answered.filter((n) => n === 'node-2').length > 10);
    // A connection reset while answering is a failure of that node too.
    c.mode = 'reset';
    for (let i = 0; i < 5; i++) assert.equal(await sign(client), 'node-0');
    // Reads go elsewhere when a node's store is down, and GETs are idempotent.
    a.mode = 'store-down';
    c.mode = 'ok';
    const id = '00000000-0000-4000-8000-000000000000';
    for (let i = 0; i < 4; i++) assert.equal(((await client.keys.get(id)) as unknown as { node: string }).node, 'node-2');
    assert.ok(a.hits(`/v1/keys/${id}`) >= 1, 'the node whose store is down was asked, and the read went on elsewhere');
  });

  it('gives up after maxAttempts with the last error, and never retries a refusal', async (t) => {
    const { keys, nodes } = await cluster(t, 2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    a.mode = 'reset';
    b.mode = 'reset';
    const client = clientOf(t, keys, [a.url, b.url], { maxAttempts: 3 });
    await assert.rejects(sign(client), { code: 'CLIENT_UNAVAILABLE' });
    assert.equal(a.hits('/v1/crypto/sign') + b.hits('/v1/crypto/sign'), 3);
    // A write is not retried on STORE_UNAVAILABLE: the store is shared, another node cannot write either.
    a.mode = 'store-down';
    b.mode = 'store-down';
    const before = a.hits('/v1/keys') + b.hits('/v1/keys');
    await assert.rejects(client.keys.create({ project: 'alpha', name: 'k', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }), { code: 'STORE_UNAVAILABLE' });
    assert.equal(a.hits('/v1/keys') + b.hits('/v1/keys') - before, 1);
  });

  it('skips a failed node for breakerMs, then tries it again', async (t) => {
    const { keys, nodes } = await cluster(t, 2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    b.mode = 'sealed';
    const client = clientOf(t, keys, [a.url, b.url], { breakerMs: 300 });
    for (let i = 0; i < 10; i++) assert.equal(await sign(client), 'node-0');
    assert.equal(b.hits('/v1/crypto/sign'), 1, 'the sealed node is asked once, then skipped');
    b.mode = 'ok';
    await new Promise((resolve) => setTimeout(resolve, 350));
    const answered: string[] = [];
    for (let i = 0; i < 4; i++) answered.push(await sign(client));
    assert.ok(answered.includes('node-1'), 'the breaker closed again');
  });

  it('sends one Idempotency-Key per write, the same on every retry, and none on idempotent calls', async (t) => {
    const { keys, nodes } = await cluster(t, 2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    a.mode = 'reset';
    const client = clientOf(t, keys, [a.url, b.url]);
    const created = await client.keys.create({ project: 'alpha', name: 'k', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    assert.equal(created.id, 'node-1');
    const writes = [...a.seen, ...b.seen].filter((s) => s.path === '/v1/keys');
    assert.equal(writes.length, 2, 'the write was retried once, on the other node');
    const [first, second] = writes;
    assert.match(first?.idempotencyKey ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(second?.idempotencyKey, first?.idempotencyKey);
    // The next logical call has a key of its own.
    a.mode = 'ok';
    await client.keys.create({ project: 'alpha', name: 'k2', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const last = [...a.seen, ...b.seen].filter((s) => s.path === '/v1/keys').at(-1);
    assert.notEqual(last?.idempotencyKey, first?.idempotencyKey);
    await sign(client);
    assert.equal([...a.seen, ...b.seen].filter((s) => s.path === '/v1/crypto/sign').every((s) => s.idempotencyKey === undefined), true);
  });

  it('keeps node-scoped calls and token sessions on their node', async (t) => {
    const { keys, nodes } = await cluster(t, 2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    const client = clientOf(t, keys, [a.url, b.url]);
    // Domain calls (unseal sessions) go to the first seed only, and are not retried elsewhere.
    for (let i = 0; i < 4; i++) await client.domain.status();
    assert.equal(a.hits('/v1/domain'), 4);
    assert.equal(b.hits('/v1/domain'), 0);
    a.mode = 'reset';
    await assert.rejects(client.domain.status(), { code: 'CLIENT_UNAVAILABLE' });
    assert.equal(b.hits('/v1/domain'), 0);
    // A token from login lives in the issuing node: every later request goes there with it.
    const issued = await client.auth.login('ursula', 'correct horse battery staple');
    assert.equal(issued.token, 'token-from-node-1');
    for (let i = 0; i < 4; i++) await sign(client);
    const signs = b.seen.filter((s) => s.path === '/v1/crypto/sign');
    assert.equal(signs.length, 4);
    assert.ok(signs.every((s) => s.authorization === 'Bearer token-from-node-1'));
  });

  it('validates the seed list', () => {
    assert.throws(() => new CofferClient({}), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new CofferClient({ nodes: [] }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new CofferClient({ nodes: ['https://127.0.0.1:1', 'http://127.0.0.1:2'] }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new CofferClient({ nodes: ['https://127.0.0.1:1'], maxAttempts: 0 }), { code: 'INVALID_ARGUMENT' });
    const client = new CofferClient({ url: 'https://127.0.0.1:1/', nodes: ['https://127.0.0.1:1', 'https://127.0.0.1:2'] });
    assert.deepEqual(client.nodes, ['https://127.0.0.1:1', 'https://127.0.0.1:2']);
    assert.equal(client.url, 'https://127.0.0.1:1');
    client.close();
  });
});
