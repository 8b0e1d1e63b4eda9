// SignerClient against a small HTTPS server written here (real TLS on loopback, the dev PKI) that
// mimics the routes it needs: error bodies become codes, uploads stream and resume after the server
// drops or fails an append, long-polls end when the job is final, outputs are checked by digest.
import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CofferError, isCofferError } from '../../core/errors.ts';
import { CofferApiError } from '../../client/index.ts';
import { ensureDevPki, type DevPki } from '../../pki/index.ts';
import { SignerClient, type JobView, type UploadView } from './index.ts';

interface Upload {
  readonly id: string;
  readonly size: number;
  readonly fileName: string | undefined;
  chunks: Buffer[];
  received: number;
}

/** How the server treats each PATCH, by its number (0 first): cut the connection or answer 503 after `after` bytes. */
type Fault = { readonly kind: 'drop' | 'unavailable'; readonly after: number } | undefined;

interface Fake {
  readonly url: string;
  readonly uploads: Map<string, Upload>;
  readonly patches: { offset: number; received: number }[];
  readonly headers: IncomingMessage['headers'][];
  /** Called with every chunk a PATCH receives, as it arrives. */
  onChunk: (chunk: Buffer) => void;
  faults: Fault[];
  jobPolls: number;
  output: Buffer;
  outputSha256: string;
}

let shared: Promise<{ pki: DevPki; dir: string }> | undefined;

/** One dev PKI for the whole file: making keys is the slow part. */
function devPki(): Promise<{ pki: DevPki; dir: string }> {
  shared ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-signer-client-'));
    return { pki: await ensureDevPki(dir), dir };
  })();
  return shared;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      resolve(chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
    });
    req.on('error', reject);
  });
}

function view(upload: Upload): UploadView {
  return { uploadId: upload.id, project: 'acme', profile: 'release', offset: upload.received, size: upload.size, complete: upload.received === upload.size, expiresAt: '2030-01-01T00:00:00Z' };
}

function job(state: JobView['state']): JobView {
  return {
    jobId: 'job-1', project: 'acme', profile: 'release', submitter: 'dev-user', state, submission: 'file',
    artifact: { size: 3, digests: {}, metadata: {} }, history: [], createdAt: '2030-01-01T00:00:00Z', updatedAt: '2030-01-01T00:00:00Z',
  };
}

/** The PATCH route: appends what arrives (even when it then fails the request), as the real store does. */
function patch(fake: Fake, req: IncomingMessage, res: ServerResponse, upload: Upload): void {
  const offset = Number(req.headers['upload-offset']);
  if (offset !== upload.received) {
    req.resume();
    sendJson(res, 409, { error: { code: 'UPLOAD_OFFSET_MISMATCH', message: `append at offset ${upload.received}` } });
    return;
  }
  const record = { offset, received: 0 };
  fake.patches.push(record);
  const fault = fake.faults[fake.patches.length - 1];
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    const room = fault === undefined ? chunk.length : Math.max(0, fault.after - record.received);
    const kept = chunk.subarray(0, Math.min(room, chunk.length));
    upload.chunks.push(kept);
    upload.received += kept.length;
    record.received += kept.length;
    fake.onChunk(kept);
    if (fault !== undefined && record.received >= fault.after) {
      failed = true;
      if (fault.kind === 'drop') req.socket.destroy();
      else {
        res.setHeader('connection', 'close');
        sendJson(res, 503, { error: { code: 'STORE_UNAVAILABLE', message: 'try again' } });
      }
    }
  });
  req.on('end', () => {
    if (!failed) sendJson(res, 200, view(upload));
  });
}

async function route(fake: Fake, req: IncomingMessage, res: ServerResponse): Promise<void> {
  fake.headers.push(req.headers);
  const url = new URL(req.url ?? '/', 'https://localhost');
  const path = url.pathname;
  const uploadMatch = /^\/v1\/signing\/uploads\/([^/]+)$/.exec(path);
  const upload = uploadMatch === null ? undefined : fake.uploads.get(decodeURIComponent(uploadMatch[1] ?? ''));
  if (req.method === 'GET' && path === '/v1/signing/whoami') {
    sendJson(res, 200, { principal: 'dev-user', authenticatedBy: 'token', admin: false, auditor: false, projects: [] });
  } else if (req.method === 'GET' && path === '/v1/signing/projects/nope') {
    sendJson(res, 404, { error: { code: 'PROJECT_NOT_FOUND', message: 'no project nope' } });
  } else if (req.method === 'GET' && path === '/v1/signing/projects/proxy') {
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
  } else if (req.method === 'POST' && path === '/v1/signing/projects/acme/uploads') {
    const body = await readJson(req);
    const created: Upload = { id: `u${fake.uploads.size + 1}`, size: Number(body['size']), fileName: body['fileName'] as string | undefined, chunks: [], received: 0 };
    fake.uploads.set(created.id, created);
    sendJson(res, 201, view(created));
  } else if (upload !== undefined && req.method === 'GET') {
    sendJson(res, 200, view(upload));
  } else if (upload !== undefined && req.method === 'PATCH') {
    patch(fake, req, res, upload);
  } else if (req.method === 'GET' && path === '/v1/signing/jobs/job-1') {
    // Final on the third poll; each poll must be a long-poll.
    fake.jobPolls += 1;
    assert.ok(Number(url.searchParams.get('waitSeconds')) > 0);
    sendJson(res, 200, job(fake.jobPolls >= 3 ? 'signed' : 'checking'));
  } else if (req.method === 'GET' && path === '/v1/signing/jobs/job-1/output') {
    res.writeHead(200, { 'content-type': 'application/pkcs7-signature', 'x-coffer-suffix': '.p7s', 'x-coffer-sha256': fake.outputSha256 }).end(fake.output);
  } else {
    sendJson(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: 'no such endpoint' } });
  }
}

async function start(t: TestContext): Promise<{ fake: Fake; client: SignerClient; dir: string }> {
  const { pki } = await devPki();
  const dir = mkdtempSync(join(tmpdir(), 'coffer-signer-files-'));
  const output = Buffer.from('signature bytes');
  const fake: Fake = {
    url: '', uploads: new Map(), patches: [], headers: [], onChunk: () => undefined, faults: [], jobPolls: 0,
    output, outputSha256: createHash('sha256').update(output).digest('hex'),
  };
  const server: Server = createServer({ cert: readFileSync(pki.serverCertPath), key: readFileSync(pki.serverKeyPath) }, (req, res) => {
    route(fake, req, res).catch((error: unknown) => {
      sendJson(res, 500, { error: { code: 'INTERNAL_ERROR', message: String(error) } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new SignerClient({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: pki.caPath, token: 'test-token', timeoutMs: 5_000 });
  t.after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => {
      resolve();
    }));
    rmSync(dir, { recursive: true, force: true });
  });
  return { fake, client, dir };
}

function uploaded(fake: Fake, id: string): Buffer {
  const upload = fake.uploads.get(id);
  assert.ok(upload !== undefined);
  return Buffer.concat(upload.chunks);
}

describe('SignerClient', () => {
  after(async () => {
    if (shared !== undefined) rmSync((await shared).dir, { recursive: true, force: true });
  });

  it('refuses a URL that is not https and half a client identity', () => {
    assert.throws(() => new SignerClient({ url: 'http://127.0.0.1:9443' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new SignerClient({ url: 'https://127.0.0.1:9443', cert: '/nonexistent.pem' }), { code: 'INVALID_ARGUMENT' });
  });

  it('sends the bearer token and turns an error body into a CofferError with its code', async (t) => {
    const { fake, client } = await start(t);
    assert.equal((await client.whoami()).principal, 'dev-user');
    assert.equal(fake.headers[0]?.authorization, 'Bearer test-token');
    await assert.rejects(client.getProject('nope'), (error: unknown) => isCofferError(error, 'PROJECT_NOT_FOUND') && error instanceof CofferApiError && error.httpStatus === 404);
    await assert.rejects(client.getProject('proxy'), (error: unknown) => isCofferError(error, 'CLIENT_PROTOCOL_ERROR'));
  });

  for (const kind of ['drop', 'unavailable'] as const) {
    it(`resumes an upload from the server's offset when it ${kind === 'drop' ? 'drops the connection' : 'answers 503'} mid-append`, async (t) => {
      const { fake, client, dir } = await start(t);
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const path = join(dir, 'app.bin');
      writeFileSync(path, bytes);
      fake.faults = [{ kind, after: 1024 * 1024 + 5 }, undefined];
      const progress: number[] = [];
      const result = await client.uploadFile('acme', 'release', path, { onProgress: (sent, total) => { assert.equal(total, bytes.length); progress.push(sent); } });
      assert.equal(result.offset, bytes.length);
      assert.equal(result.complete, true);
      assert.deepEqual(fake.patches.map((p) => p.offset), [0, 1024 * 1024 + 5]);
      assert.ok(uploaded(fake, result.uploadId).equals(bytes), 'the server holds exactly the file');
      assert.equal(fake.uploads.get(result.uploadId)?.fileName, 'app.bin');
      assert.equal(progress.at(-1), bytes.length);
      const patchHeaders = fake.headers.find((h) => h['upload-offset'] === '0');
      assert.equal(patchHeaders?.['content-type'], 'application/offset+octet-stream');
      assert.equal(patchHeaders['content-length'], String(bytes.length));
    });
  }

  it('gives up after its retries when every append fails, with the last error', async (t) => {
    const { fake, client, dir } = await start(t);
    const path = join(dir, 'app.bin');
    writeFileSync(path, randomBytes(256 * 1024));
    fake.faults = [{ kind: 'drop', after: 0 }, { kind: 'drop', after: 0 }, { kind: 'drop', after: 0 }];
    await assert.rejects(client.uploadFile('acme', 'release', path, { retries: 1 }), (error: unknown) => isCofferError(error, 'CLIENT_UNAVAILABLE'));
    assert.equal(fake.patches.length, 2);
  });

  it('refuses a wrong offset with UPLOAD_OFFSET_MISMATCH from appendUpload itself', async (t) => {
    const { client } = await start(t);
    const created = await client.createUpload('acme', { profile: 'release', size: 4 });
    await assert.rejects(client.appendUpload(created.uploadId, 2, Readable.from([Buffer.from('ab')]), { length: 2 }), (error: unknown) => isCofferError(error, 'UPLOAD_OFFSET_MISMATCH'));
  });

  it('streams the body: the server receives the first chunk before the source yields the second', async (t) => {
    const { fake, client } = await start(t);
    const first = randomBytes(64 * 1024);
    const second = randomBytes(64 * 1024);
    const created = await client.createUpload('acme', { profile: 'release', size: first.length + second.length });
    let arrived = 0;
    let firstArrived: () => void = () => undefined;
    const firstSeen = new Promise<void>((resolve) => {
      firstArrived = resolve;
    });
    fake.onChunk = (chunk) => {
      arrived += chunk.length;
      if (arrived >= first.length) firstArrived();
    };
    // A client that buffered the body before sending would wait here forever (the timer fails the test instead).
    async function* source(): AsyncGenerator<Uint8Array> {
      yield first;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new CofferError('CLIENT_TIMEOUT', 'the first chunk never reached the server'));
        }, 3_000);
      });
      try {
        await Promise.race([firstSeen, timeout]);
      } finally {
        clearTimeout(timer);
      }
      yield second;
    }
    const sent: number[] = [];
    const result = await client.appendUpload(created.uploadId, 0, source(), { length: first.length + second.length, onSent: (n) => sent.push(n) });
    assert.equal(result.offset, first.length + second.length);
    assert.ok(uploaded(fake, created.uploadId).equals(Buffer.concat([first, second])));
    assert.deepEqual(sent, [first.length, first.length + second.length]);
  });

  it('refuses a source that ends before its announced length, as a local error', async (t) => {
    const { client } = await start(t);
    const created = await client.createUpload('acme', { profile: 'release', size: 10 });
    await assert.rejects(client.appendUpload(created.uploadId, 0, Readable.from([Buffer.from('short')]), { length: 10 }), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
  });

  it('long-polls until the job is final, and checks the output against its SHA-256', async (t) => {
    const { fake, client } = await start(t);
    const final = await client.waitForJob('job-1', 30);
    assert.equal(final.state, 'signed');
    assert.equal(fake.jobPolls, 3);
    const output = await client.jobOutput('job-1');
    assert.ok(output.bytes.equals(fake.output));
    assert.deepEqual([output.mediaType, output.suffix, output.sha256], ['application/pkcs7-signature', '.p7s', fake.outputSha256]);
    fake.outputSha256 = '00'.repeat(32);
    await assert.rejects(client.jobOutput('job-1'), (error: unknown) => isCofferError(error, 'CLIENT_PROTOCOL_ERROR'));
  });
});
