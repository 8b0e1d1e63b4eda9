// Shared set-up for the server's inject tests: a real node (SQLite, barrier, journal, engine) in a
// temporary directory, unsealed with a test custodian, an app over it, and a password officer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createCustodianKeyPair, openShare, type CustodianKeyPair } from '../barrier/index.ts';
import { createApp, type AppOptions } from './app.ts';
import { CofferNode } from './coffer-node.ts';
import { NodeServices } from './node-services.ts';

export const PASSWORD = 'correct horse battery staple';

export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
  readonly headers: Record<string, unknown>;
}

export interface TestServer {
  readonly node: CofferNode;
  readonly services: NodeServices;
  readonly app: FastifyInstance;
  readonly custodian: CustodianKeyPair;
  readonly dataDir: string;
  call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Reply>;
  /** A bearer token for a fresh principal (officers are bootstrapped; others created by the officer). */
  login(name: string): Promise<string>;
}

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-server-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export interface TestServerOptions {
  /** 'uninitialized' and 'sealed' leave the domain for the test to drive through the API. */
  readonly state?: 'uninitialized' | 'sealed' | 'unsealed';
  readonly app?: AppOptions;
}

/** Unseals `node` in-process with the custodian's share (1-of-1 domains). */
export async function unsealWith(node: CofferNode, custodian: CustodianKeyPair): Promise<void> {
  const descriptor = node.barrier.descriptor;
  const entry = descriptor?.custodians[0];
  if (descriptor === undefined || entry === undefined) throw new Error('no domain');
  const share = await openShare(custodian.privateKey, descriptor, entry.id);
  try {
    await node.unsealWithShares([{ custodianId: entry.id, share }]);
  } finally {
    share.fill(0);
  }
}

export async function openTestServer(t: TestContext, options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = tempDir(t);
  const node = await CofferNode.open({ dataDir, nodeId: 'test-node' });
  t.after(() => node.close());
  const custodian = createCustodianKeyPair();
  const state = options.state ?? 'unsealed';
  if (state !== 'uninitialized') await node.initDomain({ custodians: [{ name: 'custodian-0', publicKey: custodian.publicKey }], threshold: 1 });
  if (state === 'unsealed') await unsealWith(node, custodian);
  const services = new NodeServices(node, { version: '9.9.9' });
  const app = createApp(services, { logger: false, ...options.app });
  t.after(() => app.close());

  const call: TestServer['call'] = async (method, url, { token, body, headers } = {}) => {
    const response = await app.inject({
      method, url,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    let parsed: Record<string, unknown> = {};
    try {
      parsed = response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>);
    } catch {
      parsed = {};
    }
    return { status: response.statusCode, body: parsed, text: response.body, headers: response.headers };
  };

  let officerToken: string | undefined;
  const login = async (name: string): Promise<string> => {
    const directory = await services.directory();
    if (officerToken === undefined) {
      await directory.bootstrapOfficer({ name: 'olivia', password: PASSWORD });
      officerToken = await loginToken(call, 'olivia');
    }
    if (name === 'olivia') return officerToken;
    return loginToken(call, name);
  };
  return { node, services, app, custodian, dataDir, call, login };
}

async function loginToken(call: TestServer['call'], name: string): Promise<string> {
  const reply = await call('POST', '/v1/auth/login', { body: { name, password: PASSWORD } });
  const token = reply.body['token'];
  if (reply.status !== 200 || typeof token !== 'string') throw new Error(`login ${name}: ${reply.text}`);
  return token;
}

/** The officer creates projects (if missing) and a principal with the test password; returns its token. */
export async function createPrincipal(server: TestServer, name: string, role: 'user' | 'auditor' | 'officer' | 'service', projects: readonly string[] = ['alpha']): Promise<string> {
  const officer = await server.login('olivia');
  for (const project of projects) {
    const created = await server.call('POST', '/v1/projects', { token: officer, body: { name: project } });
    if (created.status !== 201 && created.body['error'] === undefined) throw new Error(created.text);
  }
  const reply = await server.call('POST', '/v1/principals', { token: officer, body: { name, role, projects, password: PASSWORD } });
  if (reply.status !== 201) throw new Error(`create ${name}: ${reply.text}`);
  return server.login(name);
}

export function errorCode(reply: Reply): unknown {
  return (reply.body['error'] as Record<string, unknown> | undefined)?.['code'];
}
