// The signing service's edge against a real Coffer node and a real signer, both in-process on loopback
// with the development PKI's mutual TLS: bad input on every route the signer app registers (read from
// the app, so a new route without a template fails), authentication, and who may do what in which
// signing project. Every refusal must be a 4xx with a catalogue code and exactly
// {"error":{"code","message"}}, never a 5xx, a reset or a hang; afterwards the signer still answers
// and nothing it holds has changed. Problems are collected and reported all at once, so one run names
// every defect rather than the first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { CofferClient } from '../src/client/index.ts';
import { CATALOGUE, type ErrorCode } from '../src/core/errors.ts';
import { initDevDomain, unsealDevNode } from '../src/cli/dev/dev-domain.ts';
import { DEV_OFFICER, DEV_PASSWORD_FILE, DEV_PROJECT, DEV_SIGNING_KEY, DEV_USER, ensureDevIdentity } from '../src/cli/dev/dev-identity.ts';
import { ensureDevPki, issueClientCertificate, type DevPki } from '../src/pki/index.ts';
import { parseConfig, startNode, type RunningNode } from '../src/server/index.ts';
import { SignerClient } from '../src/signing/client/index.ts';
import { SIGNING_API_PREFIX } from '../src/signing/service/signer-api.ts';
import { createSignerApp } from '../src/signing/service/signer-app.ts';
import { SignerAuthenticator } from '../src/signing/service/signer-authentication.ts';
import { parseSignerConfig, startSigner, type RunningSigner } from '../src/signing/service/index.ts';
import { explicitRoutes, routeKey } from './route-inventory.ts';

type Json = Record<string, unknown>;
/** dev-user: admin, submitter and approver of dev; alice: approver only; bob, carol: submitters only. */
type Who = 'user' | 'officer' | 'outsider' | 'alice' | 'bob' | 'carol' | 'foreign' | 'none';

const P = SIGNING_API_PREFIX;
const PROFILE = 'raw';
/** Per request: a refusal that takes longer is a hang. */
const REQUEST_TIMEOUT_MS = 10_000;
const JSON_BODY_LIMIT = 1024 * 1024;

interface Credentials {
  readonly cert: string;
  readonly key: string;
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

interface Send {
  readonly method: string;
  /** Raw path and query, sent byte for byte (latin-1): the test chooses every escape. */
  readonly path: string;
  readonly as: Who;
  readonly token?: string;
  readonly authorization?: string;
  readonly body?: string | Buffer;
  /** Default application/json when a body is given. */
  readonly contentType?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Env {
  readonly dir: string;
  readonly pki: DevPki;
  readonly node: RunningNode;
  readonly signer: RunningSigner;
  readonly url: URL;
  readonly ca: string;
  readonly creds: Readonly<Record<Exclude<Who, 'none'>, Credentials>>;
  readonly logLines: string[];
  readonly clients: { readonly user: SignerClient; readonly officer: SignerClient; readonly bob: SignerClient };
  /** A signed job of dev, its artifact's SHA-256 and its output's SHA-256. */
  readonly jobId: string;
  readonly artifactSha256: string;
  readonly outputSha256: string;
  /** dev-user's upload of 10 bytes holding 5. */
  readonly partialUpload: string;
  /** dev-user's upload of 4 bytes holding none. */
  readonly smallUpload: string;
}

function send(env: Env, request: Send): Promise<Answer> {
  const creds = request.as === 'none' ? undefined : env.creds[request.as];
  const headers: Record<string, string> = { ...request.headers };
  if (request.authorization !== undefined) headers['authorization'] = request.authorization;
  if (request.token !== undefined) headers['authorization'] = `Bearer ${request.token}`;
  if (request.body !== undefined) {
    const type = request.contentType === undefined ? 'application/json' : request.contentType;
    if (type !== null) headers['content-type'] = type;
    headers['content-length'] = String(Buffer.byteLength(request.body));
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: env.url.hostname, port: env.url.port, method: request.method, path: request.path, headers, agent: false,
      ca: env.ca, ...(creds === undefined ? {} : { cert: creds.cert, key: creds.key }), servername: 'localhost',
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (a hang)`));
    }, REQUEST_TIMEOUT_MS);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(request.body);
  });
}

function parsed(answer: Answer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    return undefined;
  }
}

/** Why an answer is not a proper refusal (4xx, catalogue code, exact error body, `code` when given), or undefined. */
function refusalProblem(answer: Answer, expected?: ErrorCode | readonly ErrorCode[]): string | undefined {
  const body = parsed(answer);
  const shape = typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Json : undefined;
  const error = shape?.['error'] as Json | undefined;
  const code = typeof error?.['code'] === 'string' ? error['code'] : undefined;
  const summary = `${answer.status} ${answer.text.slice(0, 300)}`;
  if (answer.status < 400 || answer.status >= 500) return `not a 4xx: ${summary}`;
  if (!answer.contentType.startsWith('application/json')) return `not JSON (${answer.contentType}): ${summary}`;
  if (shape === undefined || Object.keys(shape).length !== 1 || error === undefined || !isDeepStrictEqual(Object.keys(error).sort(), ['code', 'message'])) {
    return `not exactly {error:{code,message}}: ${summary}`;
  }
  if (typeof error['message'] !== 'string') return `message is not text: ${summary}`;
  if (code === undefined || !Object.hasOwn(CATALOGUE, code)) return `code not in the catalogue: ${summary}`;
  if (CATALOGUE[code as ErrorCode].status !== answer.status) return `status ${answer.status} is not ${code}'s: ${summary}`;
  if (/\n\s+at |node_modules|\/work\/|\.ts:\d/.test(error['message'])) return `the message leaks internals: ${summary}`;
  const wanted = expected === undefined ? undefined : typeof expected === 'string' ? [expected] : expected;
  if (wanted !== undefined && !wanted.includes(code as ErrorCode)) return `expected ${wanted.join('|')}, got ${summary}`;
  return undefined;
}

/** Sends and records what is wrong with the answer (a connection error is a problem too). */
async function expectRefusal(env: Env, problems: string[], label: string, request: Send, expected?: ErrorCode | readonly ErrorCode[]): Promise<void> {
  let answer: Answer;
  try {
    answer = await send(env, request);
  } catch (error) {
    problems.push(`${label}: ${request.method} ${request.path.slice(0, 120)}: no answer: ${String(error)}`);
    return;
  }
  const problem = refusalProblem(answer, expected);
  if (problem !== undefined) problems.push(`${label}: ${request.method} ${request.path.slice(0, 120)}: ${problem}`);
}

async function expectOk(env: Env, problems: string[], label: string, request: Send, status = 200): Promise<unknown> {
  let answer: Answer;
  try {
    answer = await send(env, request);
  } catch (error) {
    problems.push(`${label}: no answer: ${String(error)}`);
    return undefined;
  }
  if (answer.status !== status) problems.push(`${label}: expected ${status}, got ${answer.status} ${answer.text.slice(0, 300)}`);
  return parsed(answer);
}

function report(problems: readonly string[]): void {
  assert.equal(problems.length, 0, `${problems.length} problem(s):\n${problems.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// One template per route: a request that would be valid (only its mutations are sent). Each targets
// something whose change shows in the state snapshot (a spare project, a victim profile or member).
// ---------------------------------------------------------------------------------------------
interface Template {
  readonly as: Who;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Json;
}

const HEX64 = 'ab'.repeat(32);

function templates(env: Env): Readonly<Record<string, Template>> {
  return {
    [`GET ${P}/health`]: { as: 'none' },
    [`GET ${P}/whoami`]: { as: 'user' },
    [`POST ${P}/projects`]: { as: 'officer', body: { name: 'bad-input-new', cofferProject: DEV_PROJECT, description: 'made by a refused request' } },
    [`GET ${P}/projects`]: { as: 'user' },
    [`GET ${P}/projects/:project`]: { as: 'user', params: { project: DEV_PROJECT } },
    [`DELETE ${P}/projects/:project`]: { as: 'officer', params: { project: 'spare' } },
    [`GET ${P}/projects/:project/members`]: { as: 'user', params: { project: DEV_PROJECT } },
    [`PUT ${P}/projects/:project/members/:principal`]: { as: 'user', params: { project: DEV_PROJECT, principal: 'newcomer' }, body: { roles: ['approver'] } },
    [`DELETE ${P}/projects/:project/members/:principal`]: { as: 'user', params: { project: DEV_PROJECT, principal: 'carol' } },
    [`GET ${P}/projects/:project/profiles`]: { as: 'user', params: { project: DEV_PROJECT } },
    [`PUT ${P}/projects/:project/profiles/:profile`]: {
      as: 'user', params: { project: DEV_PROJECT, profile: 'bad-input-new' },
      body: { format: 'raw', key: `${DEV_PROJECT}/${DEV_SIGNING_KEY}`, allowDigestSubmission: true, retentionDays: 1, checks: [], description: 'd' },
    },
    [`GET ${P}/projects/:project/profiles/:profile`]: { as: 'user', params: { project: DEV_PROJECT, profile: PROFILE } },
    [`DELETE ${P}/projects/:project/profiles/:profile`]: { as: 'user', params: { project: DEV_PROJECT, profile: 'victim' } },
    [`POST ${P}/projects/:project/uploads`]: { as: 'user', params: { project: DEV_PROJECT }, body: { profile: PROFILE, size: 10, fileName: 'a.bin', metadata: { branch: 'main' } } },
    [`GET ${P}/uploads/:uploadId`]: { as: 'user', params: { uploadId: env.partialUpload } },
    [`PATCH ${P}/uploads/:uploadId`]: { as: 'user', params: { uploadId: env.partialUpload } },
    [`DELETE ${P}/uploads/:uploadId`]: { as: 'user', params: { uploadId: env.partialUpload } },
    [`POST ${P}/projects/:project/jobs`]: {
      as: 'user', params: { project: DEV_PROJECT }, body: { profile: PROFILE, digest: { hash: 'SHA256', value: HEX64 }, size: 10, fileName: 'a.bin', metadata: { branch: 'main' } },
    },
    [`GET ${P}/projects/:project/jobs`]: { as: 'user', params: { project: DEV_PROJECT }, query: { limit: '10', state: 'signed' } },
    [`GET ${P}/jobs/:jobId`]: { as: 'user', params: { jobId: env.jobId }, query: { waitSeconds: '0' } },
    [`GET ${P}/jobs/:jobId/output`]: { as: 'user', params: { jobId: env.jobId } },
    [`GET ${P}/projects/:project/artifacts/:sha256`]: { as: 'user', params: { project: DEV_PROJECT, sha256: env.artifactSha256 } },
    [`GET ${P}/projects/:project/outputs/:sha256`]: { as: 'user', params: { project: DEV_PROJECT, sha256: env.outputSha256 } },
    [`POST ${P}/telemetry`]: {
      as: 'user',
      body: { project: DEV_PROJECT, profile: PROFILE, digest: { hash: 'SHA-256', value: HEX64 }, size: 10, outcome: 'signed', durationMs: 5, node: 'builder-1', keyId: randomUUID(), errorCode: 'KEY_NOT_FOUND' },
    },
    [`GET ${P}/stats`]: {
      as: 'user', query: { from: '2024-01-01', to: '2024-01-31', groupBy: 'day,project', project: DEV_PROJECT, profile: PROFILE, node: 'dev', path: 'service', outcome: 'signed' },
    },
  };
}

function pathOf(url: string, params: Readonly<Record<string, string>> = {}, query?: Readonly<Record<string, string>>): string {
  const path = url.replace(/:([A-Za-z0-9]+)/g, (_match, name: string) => params[name] ?? assert.fail(`no value for :${name} in ${url}`));
  const search = query === undefined ? '' : Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&');
  return search === '' ? path : `${path}?${search}`;
}

/** Raw path segments: too long, NUL, traversal, control and non-ASCII characters, bad escapes. */
const BAD_SEGMENTS: readonly string[] = [
  'a'.repeat(300), 'b'.repeat(250), '%00', 'a%00b', '..', '..%2F..%2Fetc%2Fpasswd', '%2E%2E', 'a%2Fb', '%0A', '%20x', '%C3%A9%E2%9C%93', '\u00e9',
  '%FF%FE', '%', '%zz', '-leading', '.hidden', 'x'.repeat(129), '%7B%7D', 'a%20b',
];

/** Values of other JSON kinds than a field's own, and the numbers a size should never accept. */
const WRONG_VALUES: readonly unknown[] = [null, true, 12345, 'text', [], {}, ['a'], { toString: 1 }, { valueOf: 1, toString: 1 }];
const BAD_NUMBERS: readonly unknown[] = [-1, 1.5, 2 ** 53, 1e308, -0.0001];

function kind(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

interface Snapshot {
  readonly projects: unknown;
  readonly perProject: unknown;
  readonly uploads: unknown;
  readonly stats: unknown;
  readonly whoami: unknown;
}

async function snapshot(env: Env): Promise<Snapshot> {
  const { officer, user } = env.clients;
  const projects = await officer.listProjects();
  const perProject = await Promise.all(projects.map(async (p) => ({
    project: p.name, members: await officer.listMembers(p.name), profiles: await officer.listProfiles(p.name),
    jobs: (await officer.listJobs(p.name, { limit: 1000 })).map((job) => ({ jobId: job.jobId, state: job.state })),
  })));
  const uploads = [await user.uploadStatus(env.partialUpload), await user.uploadStatus(env.smallUpload)];
  const stats = await officer.stats({ groupBy: ['project', 'profile', 'path', 'outcome', 'node'] });
  const whoami = await Promise.all((['user', 'alice', 'bob', 'carol', 'outsider'] as const).map(async (who) => parsed(await send(env, { method: 'GET', path: `${P}/whoami`, as: who }))));
  return { projects, perProject, uploads, stats, whoami };
}

async function startEnvironment(): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-signer-bad-input-'));
  const dataDir = join(dir, 'node');
  // coffer dev's steps (src/cli/dev/dev-node.ts) on free ports, without its banner.
  const pki = await ensureDevPki(dataDir);
  const config = parseConfig({
    dataDir, nodeId: 'dev',
    api: { port: 0, tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, clientCaFile: pki.caPath } },
    health: { port: 0 }, log: { level: 'warn' },
  }, { env: {} });
  await initDevDomain(config.dataDir, config.nodeId);
  const node = await startNode(config, { logger: false });
  let signer: RunningSigner | undefined;
  try {
    await unsealDevNode(node.node, config.dataDir);
    await ensureDevIdentity(node, pki, config.dataDir);
    const logLines: string[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
        done();
      },
    });
    signer = await startSigner(parseSignerConfig({
      nodeId: 'dev-signer', dataDir: join(dir, 'signer'),
      api: { port: 0, tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, clientCaFile: pki.caPath } },
      coffer: { url: node.apiUrl, ca: pki.caPath, cert: pki.signer.certPath, key: pki.signer.keyPath },
      admins: [DEV_OFFICER], log: { level: 'warn' },
    }, { env: {} }), { logStream });
    const ca = readFileSync(pki.caPath, 'utf8');
    const devCa = { certPem: ca, keyPem: readFileSync(pki.caKeyPath, 'utf8') };
    // The signer asks Coffer whose certificate it is: each new caller is a Coffer principal bound to its certificate.
    const cofferOfficer = new CofferClient({ url: node.apiUrl, ca, cert: readFileSync(pki.officer.certPath, 'utf8'), key: readFileSync(pki.officer.keyPath, 'utf8') });
    await cofferOfficer.projects.create({ name: 'elsewhere', description: 'the outsider\'s project' });
    const leaf = async (commonName: string, project: string): Promise<Credentials> => {
      const issued = await issueClientCertificate(devCa, { commonName });
      await cofferOfficer.principals.create({ name: commonName, role: 'user', projects: [project], defaultProject: project, certificates: [{ fingerprint: issued.fingerprint }] });
      return { cert: issued.certPem, key: issued.keyPem ?? assert.fail('no key generated') };
    };
    const fromFiles = (paths: { certPath: string; keyPath: string }): Credentials => ({ cert: readFileSync(paths.certPath, 'utf8'), key: readFileSync(paths.keyPath, 'utf8') });
    const foreignPki = await ensureDevPki(join(dir, 'foreign-pki'));
    cofferOfficer.close();
    const creds = {
      user: fromFiles(pki.user), officer: fromFiles(pki.officer), outsider: await leaf('outsider', 'elsewhere'),
      alice: await leaf('alice', DEV_PROJECT), bob: await leaf('bob', DEV_PROJECT), carol: await leaf('carol', DEV_PROJECT),
      // Another CA's certificate, for the same CN as a real member.
      foreign: fromFiles(foreignPki.user),
    };
    const client = (who: Credentials): SignerClient => new SignerClient({ url: signer?.url ?? '', ca, cert: who.cert, key: who.key });
    const clients = { user: client(creds.user), officer: client(creds.officer), bob: client(creds.bob) };

    // coffer dev's signing set-up (src/cli/dev/dev-signer.ts), then the principals of the matrix.
    await clients.officer.createProject({ name: DEV_PROJECT, description: 'development signing project' });
    await clients.officer.setMember(DEV_PROJECT, DEV_USER, ['admin', 'submitter', 'approver']);
    const profile = {
      format: 'raw', key: `${DEV_PROJECT}/${DEV_SIGNING_KEY}`, allowDigestSubmission: true, retentionDays: 30,
      checks: [{ kind: 'maxSize', name: 'size', maxBytes: 32 * 1024 ** 3 }], description: 'detached ECDSA P-256 signatures',
    };
    await clients.user.putProfile(DEV_PROJECT, PROFILE, profile);
    await clients.user.putProfile(DEV_PROJECT, 'victim', profile);
    await clients.officer.setMember(DEV_PROJECT, 'alice', ['approver']);
    await clients.officer.setMember(DEV_PROJECT, 'bob', ['submitter']);
    await clients.officer.setMember(DEV_PROJECT, 'carol', ['submitter']);
    await clients.officer.createProject({ name: 'spare', cofferProject: DEV_PROJECT, description: 'an empty project' });

    const artifact = randomBytes(1000);
    const artifactSha256 = createHash('sha256').update(artifact).digest('hex');
    const submitted = await clients.user.submitJob(DEV_PROJECT, { profile: PROFILE, digest: { hash: 'SHA-256', value: artifactSha256 }, size: artifact.length });
    const signed = await clients.user.waitForJob(submitted.jobId, 30);
    assert.equal(signed.state, 'signed', JSON.stringify(signed.failure));
    const outputSha256 = signed.result?.signatureSha256 ?? assert.fail('the signed job has no result');

    const partial = await clients.user.createUpload(DEV_PROJECT, { profile: PROFILE, size: 10 });
    await clients.user.appendUpload(partial.uploadId, 0, Readable.from([Buffer.from('12345')]));
    const small = await clients.user.createUpload(DEV_PROJECT, { profile: PROFILE, size: 4 });
    return {
      dir, pki, node, signer, url: new URL(signer.url), ca, creds, logLines, clients,
      jobId: submitted.jobId, artifactSha256, outputSha256, partialUpload: partial.uploadId, smallUpload: small.uploadId,
    };
  } catch (error) {
    await signer?.close();
    await node.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

describe('signing service: bad input, authentication, authorisation', () => {
  let env: Env | undefined;
  const ready = (): Env => env ?? assert.fail('the environment did not start');

  before(async () => {
    env = await startEnvironment();
  }, { timeout: 60_000 });

  after(async () => {
    if (env === undefined) return;
    await env.signer.close();
    await env.node.close();
    rmSync(env.dir, { recursive: true, force: true });
  });

  it('every route refuses malformed bodies, wrong types, unknown fields and bad path and query parameters with a 4xx; nothing changes', { timeout: 120_000 }, async () => {
    const e = ready();
    const problems: string[] = [];
    const before = await snapshot(e);

    // The routes the app registers: the same factory, never listening, so a new route without a template fails here.
    const inventoryApp = createSignerApp(e.signer.service, new SignerAuthenticator({ certificates: () => Promise.reject(new Error('never called')) }), { nodeId: 'inventory' });
    await inventoryApp.ready();
    const routes = explicitRoutes(inventoryApp).filter((route) => route.method !== 'HEAD');
    await inventoryApp.close();
    const table = templates(e);
    assert.deepEqual(routes.map(routeKey).sort(), Object.keys(table).sort(), 'every route has a template, and every template a route');

    for (const route of routes) {
      const key = routeKey(route);
      const t = table[key] ?? assert.fail(key);
      const base = { method: route.method, as: t.as };
      const path = pathOf(route.url, t.params, t.query);

      // Path parameters, one at a time.
      for (const name of Object.keys(t.params ?? {})) {
        for (const segment of BAD_SEGMENTS) {
          await expectRefusal(e, problems, `${key} :${name}=${segment.slice(0, 20)}`, {
            ...base, path: pathOf(route.url, { ...t.params, [name]: segment }, t.query),
            ...(t.body === undefined ? {} : { body: JSON.stringify(t.body) }),
          });
        }
      }

      if (route.method === 'POST' || route.method === 'PUT') {
        const body = t.body ?? {};
        const raw: readonly [string, string | Buffer, (string | null | undefined)?, (ErrorCode | undefined)?][] = [
          ['malformed JSON', '{"profile": ', undefined, 'MALFORMED_REQUEST'],
          ['a JSON array', JSON.stringify([body])],
          ['a JSON string', '"text"'],
          ['JSON null', 'null'],
          ['a JSON number', '42'],
          ['a __proto__ key', `{"__proto__": {"admin": true}, ${JSON.stringify(body).slice(1)}`, undefined, 'MALFORMED_REQUEST'],
          ['a constructor.prototype key', `{"constructor": {"prototype": {"admin": true}}, ${JSON.stringify(body).slice(1)}`, undefined, 'MALFORMED_REQUEST'],
          ['text/plain', JSON.stringify(body), 'text/plain', 'UNSUPPORTED_MEDIA_TYPE'],
          ['no content type', JSON.stringify(body), null],
          ['over the body limit', JSON.stringify({ ...body, pad: 'x'.repeat(JSON_BODY_LIMIT) }), undefined, 'INPUT_TOO_LARGE'],
          ['invalid UTF-8', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])],
        ];
        for (const [label, payload, contentType, code] of raw) {
          await expectRefusal(e, problems, `${key} ${label}`, { ...base, path, body: payload, ...(contentType === undefined ? {} : { contentType }) }, code);
        }
        if (t.body !== undefined) {
          await expectRefusal(e, problems, `${key} an unknown field`, { ...base, path, body: JSON.stringify({ ...body, unknownField: 1 }) });
          await expectRefusal(e, problems, `${key} an empty object`, { ...base, path, body: '{}' });
          for (const [field, value] of Object.entries(body)) {
            // A duration may be fractional; sizes, days and counts may not.
            const numbers = typeof value !== 'number' ? [] : field === 'durationMs' ? BAD_NUMBERS.filter((n) => n !== 1.5) : BAD_NUMBERS;
            const wrong = [...WRONG_VALUES.filter((v) => kind(v) !== kind(value)), ...numbers];
            for (const bad of wrong) {
              await expectRefusal(e, problems, `${key} ${field}=${JSON.stringify(bad)}`, { ...base, path, body: JSON.stringify({ ...body, [field]: bad }) });
            }
          }
        }
      }
      if (route.method === 'DELETE') {
        // A body a DELETE does not take must not be ignored when it is not even JSON.
        await expectRefusal(e, problems, `${key} malformed JSON`, { ...base, path, body: '{"x": ' }, 'MALFORMED_REQUEST');
      }
    }

    // ---- specific inputs with specified codes ----
    const user = { as: 'user' as const };
    const jobs = `${P}/projects/${DEV_PROJECT}/jobs`;
    const digestJob = (digest: unknown, extra: Json = {}): Send => ({ ...user, method: 'POST', path: jobs, body: JSON.stringify({ profile: PROFILE, digest, size: 10, ...extra }) });
    await expectRefusal(e, problems, 'job: non-hex digest', digestJob({ hash: 'SHA256', value: 'zz'.repeat(32) }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: odd-length digest', digestJob({ hash: 'SHA256', value: 'a'.repeat(63) }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: 31-byte SHA-256 digest', digestJob({ hash: 'SHA256', value: 'ab'.repeat(31) }), 'INVALID_DIGEST');
    await expectRefusal(e, problems, 'job: 33-byte SHA-256 digest', digestJob({ hash: 'SHA256', value: 'ab'.repeat(33) }), 'INVALID_DIGEST');
    await expectRefusal(e, problems, 'job: SHA-384 digest of 32 bytes', digestJob({ hash: 'SHA384', value: HEX64 }), 'INVALID_DIGEST');
    await expectRefusal(e, problems, 'job: SHA-512 digest of 48 bytes', digestJob({ hash: 'SHA-512', value: 'ab'.repeat(48) }), 'INVALID_DIGEST');
    await expectRefusal(e, problems, 'job: unknown hash', digestJob({ hash: 'MD5', value: 'ab'.repeat(16) }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: digest without value', digestJob({ hash: 'SHA256' }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: digest with an extra field', digestJob({ hash: 'SHA256', value: HEX64, extra: 1 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: negative size', digestJob({ hash: 'SHA256', value: HEX64 }, { size: -1 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: size 1e400', { ...user, method: 'POST', path: jobs, body: `{"profile":"${PROFILE}","digest":{"hash":"SHA256","value":"${HEX64}"},"size":1e400}` }, 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: unknown profile', digestJob({ hash: 'SHA256', value: HEX64 }, { profile: 'no-such-profile' }), 'SIGNING_PROFILE_NOT_FOUND');
    await expectRefusal(e, problems, 'job: metadata over the limit', digestJob({ hash: 'SHA256', value: HEX64 }, { metadata: { pad: 'x'.repeat(17 * 1024) } }), 'INPUT_TOO_LARGE');
    await expectRefusal(e, problems, 'job: metadata values not text', digestJob({ hash: 'SHA256', value: HEX64 }, { metadata: { n: 1 } }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: fileName with a slash', digestJob({ hash: 'SHA256', value: HEX64 }, { fileName: '../../etc/passwd' }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: fileName of 300 characters', digestJob({ hash: 'SHA256', value: HEX64 }, { fileName: 'f'.repeat(300) }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: fileName not text', digestJob({ hash: 'SHA256', value: HEX64 }, { fileName: 7 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: an incomplete upload', { ...user, method: 'POST', path: jobs, body: JSON.stringify({ profile: PROFILE, uploadId: e.partialUpload }) }, 'UPLOAD_INCOMPLETE');
    await expectRefusal(e, problems, 'job: upload and digest at once', { ...user, method: 'POST', path: jobs, body: JSON.stringify({ profile: PROFILE, uploadId: e.partialUpload, digest: { hash: 'SHA256', value: HEX64 } }) }, 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'job: an unknown upload', { ...user, method: 'POST', path: jobs, body: JSON.stringify({ profile: PROFILE, uploadId: randomUUID() }) }, 'UPLOAD_NOT_FOUND');
    await expectRefusal(e, problems, 'job: uploadId not text', { ...user, method: 'POST', path: jobs, body: JSON.stringify({ profile: PROFILE, uploadId: { toString: 1 } }) });
    await expectRefusal(e, problems, 'job: profile {toString: 1}', { ...user, method: 'POST', path: jobs, body: JSON.stringify({ profile: { toString: 1 }, uploadId: e.partialUpload }) });

    const uploads = `${P}/projects/${DEV_PROJECT}/uploads`;
    const newUpload = (fields: Json): Send => ({ ...user, method: 'POST', path: uploads, body: JSON.stringify({ profile: PROFILE, size: 10, ...fields }) });
    await expectRefusal(e, problems, 'upload: unknown profile', newUpload({ profile: 'no-such-profile' }), 'SIGNING_PROFILE_NOT_FOUND');
    await expectRefusal(e, problems, 'upload: negative size', newUpload({ size: -5 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'upload: size 2^53', newUpload({ size: 2 ** 53 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'upload: size over the store limit', newUpload({ size: 2 ** 50 }), 'INPUT_TOO_LARGE');
    await expectRefusal(e, problems, 'upload: size as text', newUpload({ size: '10' }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'upload: metadata over the limit', newUpload({ metadata: { pad: 'x'.repeat(17 * 1024) } }), 'INPUT_TOO_LARGE');
    await expectRefusal(e, problems, 'upload: metadata an array', newUpload({ metadata: ['a'] }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'upload: fileName with a NUL', newUpload({ fileName: 'a\u0000b' }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'upload: fileName with a slash', newUpload({ fileName: 'dir/a.bin' }), 'INVALID_ARGUMENT');

    // PATCH: media type, offsets and size.
    const patch = (uploadId: string, offset: string | undefined, bytes: Buffer, contentType: string | null = 'application/offset+octet-stream'): Send => ({
      ...user, method: 'PATCH', path: `${P}/uploads/${uploadId}`, body: bytes, contentType, headers: offset === undefined ? {} : { 'upload-offset': offset },
    });
    const five = Buffer.from('abcde');
    await expectRefusal(e, problems, 'patch: wrong offset', patch(e.partialUpload, '0', five), 'UPLOAD_OFFSET_MISMATCH');
    await expectRefusal(e, problems, 'patch: offset past the end', patch(e.partialUpload, '9', Buffer.from('z')), 'UPLOAD_OFFSET_MISMATCH');
    for (const offset of ['-1', 'abc', '1e3', '5.0', '+5', '05', '99999999999999999', '0x5', '']) {
      await expectRefusal(e, problems, `patch: Upload-Offset ${JSON.stringify(offset)}`, patch(e.partialUpload, offset, five), 'INVALID_ARGUMENT');
    }
    await expectRefusal(e, problems, 'patch: no Upload-Offset', patch(e.partialUpload, undefined, five), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'patch: application/json', patch(e.partialUpload, '5', Buffer.from('{"a":1}'), 'application/json'), 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefusal(e, problems, 'patch: malformed application/json', patch(e.partialUpload, '5', Buffer.from('{"a":'), 'application/json'), ['UNSUPPORTED_MEDIA_TYPE', 'MALFORMED_REQUEST']);
    await expectRefusal(e, problems, 'patch: text/plain', patch(e.partialUpload, '5', five, 'text/plain'), 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefusal(e, problems, 'patch: multipart', patch(e.partialUpload, '5', five, 'multipart/form-data; boundary=x'), 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefusal(e, problems, 'patch: no content type', patch(e.partialUpload, '5', five, null), 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefusal(e, problems, 'patch: beyond the declared size', patch(e.smallUpload, '0', Buffer.from('0123456789')), 'INPUT_TOO_LARGE');
    await expectRefusal(e, problems, 'patch: 2 MiB beyond the declared size', patch(e.smallUpload, '0', randomBytes(2 * 1024 * 1024)), 'INPUT_TOO_LARGE');
    await expectRefusal(e, problems, 'patch: an unknown upload', patch(randomUUID(), '0', five), 'UPLOAD_NOT_FOUND');
    await expectRefusal(e, problems, 'patch: an upload id in capitals', patch(e.partialUpload.toUpperCase(), '5', five), 'UPLOAD_NOT_FOUND');

    // Query parameters.
    for (const limit of ['abc', '-1', '0', '1.5', '1e400', '99999999999999999999', '100000', '1&limit=2', '']) {
      await expectRefusal(e, problems, `jobs: limit=${limit}`, { ...user, method: 'GET', path: `${jobs}?limit=${limit}` }, 'INVALID_ARGUMENT');
    }
    for (const state of ['bogus', 'signed&state=failed', '%00', 'SIGNED']) {
      await expectRefusal(e, problems, `jobs: state=${state}`, { ...user, method: 'GET', path: `${jobs}?state=${state}` }, 'INVALID_ARGUMENT');
    }
    for (const wait of ['999', '61', '-1', 'abc', '1.5', '1e1', '0&waitSeconds=1', '', '%20']) {
      await expectRefusal(e, problems, `job: waitSeconds=${wait}`, { ...user, method: 'GET', path: `${P}/jobs/${e.jobId}?waitSeconds=${wait}` }, 'INVALID_ARGUMENT');
    }
    for (const query of [
      'from=2024-13-01', 'from=2024-02-30', 'to=2024-00-10', 'from=yesterday', 'from=99999-01-01', 'from=', 'to=2024-1-1', 'from=2024-01-01T00:00:00Z',
      'from=2024-02-01&to=2024-01-01', 'from=2000-01-01&to=2024-01-01', 'from=-2024-01-01', 'from=2024-01-01&from=2024-01-02', 'to=%00',
      'groupBy=bogus', 'groupBy=day,day', 'groupBy=', 'path=bogus', 'outcome=bogus', 'project=%00', `project=${'p'.repeat(300)}`, 'node=%0A', 'unknown=1',
    ]) {
      await expectRefusal(e, problems, `stats: ${query.slice(0, 60)}`, { ...user, method: 'GET', path: `${P}/stats?${query}` }, 'INVALID_ARGUMENT');
    }

    // Artifacts and outputs are addressed by 64 lowercase hex digits.
    for (const sha of ['zz'.repeat(32), 'AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'abc']) {
      await expectRefusal(e, problems, `artifacts: ${sha.slice(0, 8)}… (${sha.length})`, { ...user, method: 'GET', path: `${P}/projects/${DEV_PROJECT}/artifacts/${sha}` }, 'INVALID_DIGEST');
      await expectRefusal(e, problems, `outputs: ${sha.slice(0, 8)}… (${sha.length})`, { ...user, method: 'GET', path: `${P}/projects/${DEV_PROJECT}/outputs/${sha}` }, 'INVALID_DIGEST');
    }
    await expectRefusal(e, problems, 'outputs: an unknown output', { ...user, method: 'GET', path: `${P}/projects/${DEV_PROJECT}/outputs/${HEX64}` }, 'SIGNING_ARTIFACT_NOT_FOUND');

    // Profiles, members, projects.
    const profilePath = (name: string): string => `${P}/projects/${DEV_PROJECT}/profiles/${name}`;
    const table0 = table[`PUT ${P}/projects/:project/profiles/:profile`]?.body ?? {};
    const putProfile = (fields: Json): Send => ({ ...user, method: 'PUT', path: profilePath('bad-input-new'), body: JSON.stringify({ ...table0, ...fields }) });
    await expectRefusal(e, problems, 'profile: unknown profile', { ...user, method: 'GET', path: profilePath('no-such-profile') }, 'SIGNING_PROFILE_NOT_FOUND');
    await expectRefusal(e, problems, 'profile: delete an unknown profile', { ...user, method: 'DELETE', path: profilePath('no-such-profile') }, 'SIGNING_PROFILE_NOT_FOUND');
    await expectRefusal(e, problems, 'profile: project in the body', putProfile({ project: 'other' }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'profile: unknown format', putProfile({ format: 'pgp' }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'profile: a key of another Coffer project', putProfile({ key: 'other/key' }), 'SIGNING_PROFILE_KEY_INVALID');
    await expectRefusal(e, problems, 'profile: an encryption key', putProfile({ key: `${DEV_PROJECT}/foo` }), 'SIGNING_PROFILE_KEY_INVALID');
    for (const key of [`${DEV_PROJECT}/${'k'.repeat(300)}`, `${DEV_PROJECT}/../../x`, `${DEV_PROJECT}/a%00b`, `${DEV_PROJECT}/\u00e9\u2713`, '', '/', `${DEV_PROJECT}/a/b`, 'k'.repeat(5000)]) {
      await expectRefusal(e, problems, `profile: key ${JSON.stringify(key.slice(0, 30))}`, putProfile({ key }));
    }
    await expectRefusal(e, problems, 'profile: retentionDays 1e9', putProfile({ retentionDays: 1e9 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'profile: approval of a non-approver', putProfile({ approval: { threshold: 1, approvers: ['bob'] } }));
    await expectRefusal(e, problems, 'profile: a thousand checks', putProfile({ checks: Array.from({ length: 1000 }, (_, i) => ({ kind: 'maxSize', name: `c${i}`, maxBytes: 1 })) }));
    await expectRefusal(e, problems, 'member: unknown role', { ...user, method: 'PUT', path: `${P}/projects/${DEV_PROJECT}/members/newcomer`, body: '{"roles":["owner"]}' }, 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'member: a role twice', { ...user, method: 'PUT', path: `${P}/projects/${DEV_PROJECT}/members/newcomer`, body: '{"roles":["approver","approver"]}' }, 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'member: no roles', { ...user, method: 'PUT', path: `${P}/projects/${DEV_PROJECT}/members/newcomer`, body: '{"roles":[]}' }, 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'member: remove a non-member', { ...user, method: 'DELETE', path: `${P}/projects/${DEV_PROJECT}/members/nobody` }, 'SIGNING_MEMBER_NOT_FOUND');
    const officer = { as: 'officer' as const };
    await expectRefusal(e, problems, 'project: an existing name', { ...officer, method: 'POST', path: `${P}/projects`, body: JSON.stringify({ name: DEV_PROJECT }) }, 'SIGNING_PROJECT_EXISTS');
    await expectRefusal(e, problems, 'project: description of 2000 characters', { ...officer, method: 'POST', path: `${P}/projects`, body: JSON.stringify({ name: 'bad-input-new', description: 'd'.repeat(2000) }) }, 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'project: delete one with profiles', { ...officer, method: 'DELETE', path: `${P}/projects/${DEV_PROJECT}` }, 'SIGNING_PROJECT_NOT_EMPTY');
    await expectRefusal(e, problems, 'project: delete an unknown one', { ...officer, method: 'DELETE', path: `${P}/projects/no-such-project` }, 'SIGNING_PROJECT_NOT_FOUND');
    await expectRefusal(e, problems, 'job: output of an unknown job', { ...user, method: 'GET', path: `${P}/jobs/${randomUUID()}/output` }, 'SIGNING_JOB_NOT_FOUND');

    // Telemetry.
    const telemetry = table[`POST ${P}/telemetry`]?.body ?? {};
    const sendTelemetry = (fields: Json): Send => ({ ...user, method: 'POST', path: `${P}/telemetry`, body: JSON.stringify({ ...telemetry, ...fields }) });
    await expectRefusal(e, problems, 'telemetry: unknown profile', sendTelemetry({ profile: 'no-such-profile' }), 'SIGNING_PROFILE_NOT_FOUND');
    await expectRefusal(e, problems, 'telemetry: 31-byte digest', sendTelemetry({ digest: { hash: 'SHA-256', value: 'ab'.repeat(31) } }), 'INVALID_DIGEST');
    await expectRefusal(e, problems, 'telemetry: non-hex digest', sendTelemetry({ digest: { hash: 'SHA-256', value: 'zz'.repeat(32) } }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'telemetry: size over 2^50', sendTelemetry({ size: 2 ** 51 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'telemetry: durationMs over a day', sendTelemetry({ durationMs: 86_400_001 }), 'INVALID_ARGUMENT');
    await expectRefusal(e, problems, 'telemetry: an unknown project', sendTelemetry({ project: 'no-such-project' }), 'SIGNING_PROJECT_NOT_FOUND');
    await expectRefusal(e, problems, 'telemetry: no body', { ...user, method: 'POST', path: `${P}/telemetry` });
    await expectRefusal(e, problems, 'telemetry: empty JSON body', { ...user, method: 'POST', path: `${P}/telemetry`, body: '' });

    // Wrong methods and unknown paths.
    await expectRefusal(e, problems, 'POST health', { ...user, method: 'POST', path: `${P}/health`, body: '{}' }, 'METHOD_NOT_ALLOWED');
    await expectRefusal(e, problems, 'PATCH projects', { ...user, method: 'PATCH', path: `${P}/projects`, body: '{}' }, 'METHOD_NOT_ALLOWED');
    await expectRefusal(e, problems, 'an unknown path', { ...user, method: 'GET', path: `${P}/nothing-here` }, 'ROUTE_NOT_FOUND');
    await expectRefusal(e, problems, 'a bad escape in the path', { ...user, method: 'GET', path: `${P}/projects/%E0%A4%A` });

    // Still answering, and nothing changed.
    const health = await expectOk(e, problems, 'health afterwards', { method: 'GET', path: `${P}/health`, as: 'none' });
    assert.deepEqual(health, { status: 'ok', node: 'dev-signer' });
    await expectOk(e, problems, 'whoami afterwards', { method: 'GET', path: `${P}/whoami`, as: 'user' });
    const afterwards = await snapshot(e);
    for (const part of ['projects', 'perProject', 'uploads', 'stats', 'whoami'] as const) {
      if (!isDeepStrictEqual(afterwards[part], before[part])) problems.push(`state changed (${part}):\nbefore ${JSON.stringify(before[part])}\nafter  ${JSON.stringify(afterwards[part])}`);
    }
    const errors = e.logLines.filter((line) => ((parsed({ status: 0, contentType: '', text: line }) as { level?: number } | undefined)?.level ?? 0) >= 50);
    if (errors.length > 0) problems.push(`the signer logged ${errors.length} error(s):\n${errors.map((line) => line.slice(0, 400)).join('\n')}`);
    report(problems);
  });
  it('authentication: no credentials, another CA, a bogus token are refused with their codes; a Coffer login token works', { timeout: 60_000 }, async () => {
    const e = ready();
    const problems: string[] = [];
    const routes = Object.entries(templates(e)).filter(([key]) => key !== `GET ${P}/health`);
    for (const [key, t] of routes) {
      const [method = 'GET', url = ''] = key.split(' ');
      const path = pathOf(url, t.params, t.query);
      const body = t.body === undefined ? {} : { body: JSON.stringify(t.body) };
      await expectRefusal(e, problems, `${key} without credentials`, { method, path, as: 'none', ...body }, 'AUTH_REQUIRED');
      await expectRefusal(e, problems, `${key} with another CA's certificate`, { method, path, as: 'foreign', ...body }, 'AUTH_CERTIFICATE_UNTRUSTED');
      await expectRefusal(e, problems, `${key} with a bogus token`, { method, path, as: 'none', token: 'bogus-token', ...body }, 'AUTH_FAILED');
    }
    const whoami = { method: 'GET', path: `${P}/whoami`, as: 'none' as const };
    for (const authorization of ['Basic ZGV2LXVzZXI6eA==', 'Bearer', 'Bearer ', 'bearer abc', 'Bearer a b', `Bearer ${'t'.repeat(8000)}`, 'Bearer \u00e9\u00e9', 'Bearer ../../x']) {
      await expectRefusal(e, problems, `whoami with Authorization ${JSON.stringify(authorization.slice(0, 20))}`, { ...whoami, authorization }, 'AUTH_FAILED');
    }
    // Another CA's certificate is refused even beside a valid-looking token: the certificate is the identity presented.
    await expectRefusal(e, problems, 'whoami with another CA and a bogus token', { ...whoami, as: 'foreign', token: 'bogus-token' }, 'AUTH_CERTIFICATE_UNTRUSTED');

    const coffer = new CofferClient({ url: e.node.apiUrl, ca: e.ca });
    try {
      const password = readFileSync(join(e.dir, 'node', DEV_PASSWORD_FILE), 'utf8').trim();
      const { token } = await coffer.auth.login(DEV_USER, password);
      const me = await expectOk(e, problems, 'whoami with a Coffer token', { ...whoami, token }) as Json | undefined;
      assert.equal(me?.['principal'], DEV_USER);
      assert.equal(me['authenticatedBy'], 'token');
      assert.equal(me['admin'], false);
      const projects = await expectOk(e, problems, 'projects with a Coffer token', { method: 'GET', path: `${P}/projects`, as: 'none', token }) as { projects?: { name: string }[] } | undefined;
      assert.deepEqual(projects?.projects?.map((p) => p.name), [DEV_PROJECT]);
      // The certificate names the caller when both are given.
      const both = await expectOk(e, problems, 'whoami with a certificate and a token', { ...whoami, as: 'bob', token }) as Json | undefined;
      assert.equal(both?.['principal'], 'bob');
      assert.equal(both['authenticatedBy'], 'certificate');
      await coffer.auth.logout();
    } finally {
      coffer.close();
    }
    const health = await expectOk(e, problems, 'health', { method: 'GET', path: `${P}/health`, as: 'none' });
    assert.deepEqual(health, { status: 'ok', node: 'dev-signer' });
    report(problems);
  });

  it('authorisation: outsiders see nothing, approvers and submitters stay in their roles, signer admins manage but never submit, uploads are their submitter\'s', { timeout: 60_000 }, async () => {
    const e = ready();
    const problems: string[] = [];
    const dev = `${P}/projects/${DEV_PROJECT}`;
    const upload = `${P}/uploads/${e.partialUpload}`;
    const digestJob = JSON.stringify({ profile: PROFILE, digest: { hash: 'SHA-256', value: HEX64 }, size: 10 });
    const newUpload = JSON.stringify({ profile: PROFILE, size: 10 });
    const telemetry = JSON.stringify({ project: DEV_PROJECT, profile: PROFILE, digest: { hash: 'SHA-256', value: HEX64 }, size: 10, outcome: 'signed', durationMs: 5 });
    const profile = JSON.stringify({ format: 'raw', key: `${DEV_PROJECT}/${DEV_SIGNING_KEY}`, allowDigestSubmission: true, retentionDays: 1, checks: [] });
    const octets = { contentType: 'application/offset+octet-stream', headers: { 'upload-offset': '5' }, body: Buffer.from('abcde') };
    const before = await snapshot(e);

    // An outsider: no project is visible, every dev resource is "not found".
    const outsider = { as: 'outsider' as const };
    assert.deepEqual(await expectOk(e, problems, 'outsider lists projects', { ...outsider, method: 'GET', path: `${P}/projects` }), { projects: [] });
    const mine = await expectOk(e, problems, 'outsider whoami', { ...outsider, method: 'GET', path: `${P}/whoami` }) as Json | undefined;
    assert.deepEqual(mine?.['projects'], []);
    const hidden: readonly [string, string, string?][] = [
      ['GET', dev], ['DELETE', dev], ['GET', `${dev}/members`], ['PUT', `${dev}/members/outsider`, '{"roles":["admin"]}'], ['DELETE', `${dev}/members/bob`],
      ['GET', `${dev}/profiles`], ['GET', `${dev}/profiles/${PROFILE}`], ['PUT', `${dev}/profiles/mine`, profile], ['DELETE', `${dev}/profiles/victim`],
      ['POST', `${dev}/uploads`, newUpload], ['POST', `${dev}/jobs`, digestJob], ['GET', `${dev}/jobs`],
      ['GET', `${dev}/artifacts/${e.artifactSha256}`], ['GET', `${dev}/outputs/${e.outputSha256}`],
      ['POST', `${P}/telemetry`, telemetry], ['GET', `${P}/stats?project=${DEV_PROJECT}`],
    ];
    for (const [method, path, body] of hidden) {
      const code: ErrorCode = method === 'DELETE' && path === dev ? 'ACCESS_DENIED' : 'SIGNING_PROJECT_NOT_FOUND';
      await expectRefusal(e, problems, `outsider ${method} ${path}`, { ...outsider, method, path, ...(body === undefined ? {} : { body }) }, code);
    }
    await expectRefusal(e, problems, 'outsider reads a dev job', { ...outsider, method: 'GET', path: `${P}/jobs/${e.jobId}` }, 'SIGNING_JOB_NOT_FOUND');
    await expectRefusal(e, problems, 'outsider long-polls a dev job', { ...outsider, method: 'GET', path: `${P}/jobs/${e.jobId}?waitSeconds=1` }, 'SIGNING_JOB_NOT_FOUND');
    await expectRefusal(e, problems, 'outsider reads a dev job\'s output', { ...outsider, method: 'GET', path: `${P}/jobs/${e.jobId}/output` }, 'SIGNING_JOB_NOT_FOUND');
    await expectRefusal(e, problems, 'outsider reads dev-user\'s upload', { ...outsider, method: 'GET', path: upload }, 'UPLOAD_NOT_FOUND');
    await expectRefusal(e, problems, 'outsider creates a project', { ...outsider, method: 'POST', path: `${P}/projects`, body: '{"name":"mine"}' }, 'ACCESS_DENIED');
    const outsiderStats = await expectOk(e, problems, 'outsider reads stats', { ...outsider, method: 'GET', path: `${P}/stats?groupBy=project` }) as { rows?: unknown[] } | undefined;
    assert.deepEqual(outsiderStats?.rows, [], 'an outsider\'s statistics cover no project');

    // alice, an approver only: reads, never submits or manages.
    const alice = { as: 'alice' as const };
    await expectOk(e, problems, 'approver reads the project', { ...alice, method: 'GET', path: dev });
    await expectOk(e, problems, 'approver reads a job', { ...alice, method: 'GET', path: `${P}/jobs/${e.jobId}` });
    for (const [label, request] of [
      ['creates an upload', { method: 'POST', path: `${dev}/uploads`, body: newUpload }],
      ['submits a job', { method: 'POST', path: `${dev}/jobs`, body: digestJob }],
      ['sends telemetry', { method: 'POST', path: `${P}/telemetry`, body: telemetry }],
      ['puts a profile', { method: 'PUT', path: `${dev}/profiles/mine`, body: profile }],
      ['deletes a profile', { method: 'DELETE', path: `${dev}/profiles/victim` }],
      ['sets a member', { method: 'PUT', path: `${dev}/members/alice`, body: '{"roles":["admin"]}' }],
      ['removes a member', { method: 'DELETE', path: `${dev}/members/bob` }],
    ] as const) {
      await expectRefusal(e, problems, `approver ${label}`, { ...alice, ...request }, 'ACCESS_DENIED');
    }

    // bob, a submitter who is not an admin: submits, never manages.
    const bob = { as: 'bob' as const };
    for (const [label, request] of [
      ['sets a member', { method: 'PUT', path: `${dev}/members/bob`, body: '{"roles":["admin","submitter"]}' }],
      ['removes a member', { method: 'DELETE', path: `${dev}/members/carol` }],
      ['puts a profile', { method: 'PUT', path: `${dev}/profiles/mine`, body: profile }],
      ['deletes a profile', { method: 'DELETE', path: `${dev}/profiles/victim` }],
      ['creates a project', { method: 'POST', path: `${P}/projects`, body: '{"name":"mine"}' }],
      ['deletes a project', { method: 'DELETE', path: `${P}/projects/spare` }],
    ] as const) {
      await expectRefusal(e, problems, `submitter ${label}`, { ...bob, ...request }, 'ACCESS_DENIED');
    }
    // dev-user administers dev but is no signer admin.
    await expectRefusal(e, problems, 'project admin creates a project', { as: 'user', method: 'POST', path: `${P}/projects`, body: '{"name":"mine"}' }, 'ACCESS_DENIED');
    await expectRefusal(e, problems, 'project admin deletes a project', { as: 'user', method: 'DELETE', path: `${P}/projects/spare` }, 'ACCESS_DENIED');

    // An upload is its submitter's alone: another submitter of the same project, and the signer admin, do not find it.
    for (const who of ['bob', 'officer'] as const) {
      await expectRefusal(e, problems, `${who} reads dev-user's upload`, { as: who, method: 'GET', path: upload }, 'UPLOAD_NOT_FOUND');
      await expectRefusal(e, problems, `${who} appends to dev-user's upload`, { as: who, method: 'PATCH', path: upload, ...octets }, 'UPLOAD_NOT_FOUND');
      await expectRefusal(e, problems, `${who} deletes dev-user's upload`, { as: who, method: 'DELETE', path: upload }, 'UPLOAD_NOT_FOUND');
    }
    await expectRefusal(e, problems, 'bob submits dev-user\'s upload', { ...bob, method: 'POST', path: `${dev}/jobs`, body: JSON.stringify({ profile: PROFILE, uploadId: e.partialUpload }) }, 'UPLOAD_NOT_FOUND');

    // The signer admin: every project, members and profiles, but no submission.
    const officer = { as: 'officer' as const };
    for (const [label, request] of [
      ['creates an upload', { method: 'POST', path: `${dev}/uploads`, body: newUpload }],
      ['submits a job', { method: 'POST', path: `${dev}/jobs`, body: digestJob }],
      ['sends telemetry', { method: 'POST', path: `${P}/telemetry`, body: telemetry }],
    ] as const) {
      await expectRefusal(e, problems, `signer admin ${label}`, { ...officer, ...request }, 'ACCESS_DENIED');
    }
    const state = await snapshot(e);
    for (const part of ['projects', 'perProject', 'uploads', 'stats', 'whoami'] as const) {
      if (!isDeepStrictEqual(state[part], before[part])) problems.push(`a refused request changed ${part}:\nbefore ${JSON.stringify(before[part])}\nafter  ${JSON.stringify(state[part])}`);
    }
    await expectOk(e, problems, 'signer admin creates a project', { ...officer, method: 'POST', path: `${P}/projects`, body: '{"name":"officer-made","cofferProject":"dev"}' }, 201);
    await expectOk(e, problems, 'signer admin adds a member', { ...officer, method: 'PUT', path: `${P}/projects/officer-made/members/bob`, body: '{"roles":["submitter"]}' });
    await expectOk(e, problems, 'signer admin reads its members', { ...officer, method: 'GET', path: `${P}/projects/officer-made/members` });
    await expectOk(e, problems, 'signer admin puts a profile', { ...officer, method: 'PUT', path: `${P}/projects/officer-made/profiles/p`, body: profile });
    await expectRefusal(e, problems, 'signer admin submits in its own project', { ...officer, method: 'POST', path: `${P}/projects/officer-made/jobs`, body: JSON.stringify({ profile: 'p', digest: { hash: 'SHA-256', value: HEX64 }, size: 10 }) }, 'ACCESS_DENIED');
    const bobsView = await expectOk(e, problems, 'the new member sees the project', { ...bob, method: 'GET', path: `${P}/projects` }) as { projects?: { name: string }[] } | undefined;
    assert.deepEqual(bobsView?.projects?.map((p) => p.name).sort(), [DEV_PROJECT, 'officer-made']);
    await expectRefusal(e, problems, 'outsider still does not see it', { ...outsider, method: 'GET', path: `${P}/projects/officer-made` }, 'SIGNING_PROJECT_NOT_FOUND');
    await expectOk(e, problems, 'signer admin deletes the profile', { ...officer, method: 'DELETE', path: `${P}/projects/officer-made/profiles/p` }, 204);
    await expectOk(e, problems, 'signer admin removes the member', { ...officer, method: 'DELETE', path: `${P}/projects/officer-made/members/bob` }, 204);
    await expectOk(e, problems, 'signer admin deletes the project', { ...officer, method: 'DELETE', path: `${P}/projects/officer-made` }, 204);
    assert.deepEqual(await expectOk(e, problems, 'health', { method: 'GET', path: `${P}/health`, as: 'none' }), { status: 'ok', node: 'dev-signer' });
    report(problems);
  });
});
