// Shared set-up for the quorum tests: a real node's parts (SQLite store, unsealed barrier, durable
// journal) built from the layers below approvals, officers with approval keys, and a manual clock.
// test/node-kit.ts builds the same through CofferNode for tests outside src/; the layer check keeps
// src/approvals from importing the server.
import { createPublicKey, generateKeyPairSync, sign as signBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { AuditJournal } from '../../audit/index.ts';
import { Barrier, createCustodianKeyPair, initDomain, openShare } from '../../barrier/index.ts';
import type { Caller } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import { openSqliteStore, type SqliteStore } from '../../store/index.ts';
import type { QuorumParameters } from './approval-token.ts';
import { QUORUM_OPERATIONS, type QuorumOperation } from './operation-classes.ts';
import type { QuorumOperationHandler, QuorumOperationHandlers } from './operation-handlers.ts';
import { QuorumService } from './quorum-service.ts';
import { signQuorumStatement } from './quorum-statement.ts';

export class ManualClock implements Clock {
  #ms = Date.parse('2030-01-01T00:00:00Z');

  now(): Date {
    return new Date(this.#ms);
  }

  advance(ms: number): void {
    this.#ms += ms;
  }
}

export interface TestNode {
  readonly store: SqliteStore;
  readonly barrier: Barrier;
  readonly audit: AuditJournal;
  readonly journalPath: string;
}

export async function openTestNode(t: TestContext, clock: Clock): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-quorum-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const store = await openSqliteStore(join(dir, 'coffer.db'));
  const custodian = createCustodianKeyPair();
  const descriptor = await initDomain({ custodians: [{ name: 'custodian-0', publicKey: custodian.publicKey }], threshold: 1 });
  const barrier = new Barrier(descriptor, { clock });
  const entry = descriptor.custodians[0];
  if (entry === undefined) throw new Error('no custodian');
  await barrier.unsealWithShares([{ custodianId: entry.id, share: await openShare(custodian.privateKey, descriptor, entry.id) }]);
  const journalPath = join(dir, 'audit.jsonl');
  const audit = await AuditJournal.open({
    path: journalPath, nodeId: 'test-node', clock,
    checkpointSigner: {
      sign: (data) => signBytes(null, data, barrier.auditSigningKey()),
      publicKey: createPublicKey({ key: Buffer.from(descriptor.auditPublicKey, 'base64url'), format: 'der', type: 'spki' }),
    },
  });
  t.after(async () => {
    await audit.close();
    await store.close();
  });
  return { store, barrier, audit, journalPath };
}

let requests = 0;

export function officer(principal: string): Caller {
  return { principal, roles: ['officer'], projects: [], requestId: `req-${principal}-${++requests}` };
}

export interface TestOfficer {
  readonly caller: Caller;
  readonly privateKey: KeyObject;
  readonly publicPem: string;
  sign(digest: string): Uint8Array;
}

/** Officers alternate Ed25519 and ECDSA P-256 keys, so every test covers both algorithms. */
export function makeOfficer(name: string, index: number): TestOfficer {
  const pair = index % 2 === 0 ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    caller: officer(name),
    privateKey: pair.privateKey,
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (digest) => signQuorumStatement(pair.privateKey, digest),
  };
}

/** One run of a handler, as the service made it. */
export interface RecordedRun {
  readonly operation: QuorumOperation;
  readonly requester: string;
  readonly parameters: QuorumParameters;
}

/**
 * Officer-requested handlers for every class but quorum.policy-change, except `without`: each refuses
 * parameters holding `invalid: true` at request time and records its runs in `runs`.
 */
export function recordingHandlers(runs: RecordedRun[], without: readonly QuorumOperation[] = ['backup.restore']): QuorumOperationHandlers {
  const handler = (operation: QuorumOperation): QuorumOperationHandler => ({
    requesterRoles: ['officer'],
    validate: (_caller, parameters) => (parameters['invalid'] === true ? Promise.reject(new CofferError('INVALID_ARGUMENT', 'invalid')) : Promise.resolve()),
    run: (caller, parameters) => {
      runs.push({ operation, requester: caller.principal, parameters });
      return Promise.resolve({ ran: operation });
    },
  });
  return Object.fromEntries(QUORUM_OPERATIONS.filter((op) => op !== 'quorum.policy-change' && !without.includes(op)).map((op) => [op, handler(op)]));
}

export interface Fixture {
  readonly node: TestNode;
  readonly clock: ManualClock;
  readonly service: QuorumService;
  /** officers[0] is the usual requester; all are listed approvers with registered keys. */
  readonly officers: readonly TestOfficer[];
  /** What the handlers ran. */
  readonly runs: RecordedRun[];
}

/** A node with `n` officers, their keys registered, and an M-of-N policy for `operations`. */
export async function openFixture(t: TestContext, n: number, m: number, operations: readonly QuorumOperation[] = ['key.delete', 'quorum.policy-change']): Promise<Fixture> {
  const clock = new ManualClock();
  const node = await openTestNode(t, clock);
  const runs: RecordedRun[] = [];
  const service = new QuorumService({ store: node.store, barrier: node.barrier, audit: node.audit, clock, operations: recordingHandlers(runs) });
  const officers = Array.from({ length: n }, (_, i) => makeOfficer(`officer-${i}`, i));
  for (const o of officers) await service.registerApprovalKey(o.caller, o.publicPem);
  const rule = { threshold: m, approvers: officers.map((o) => o.caller.principal) };
  await service.initializePolicy(officers[0]?.caller ?? officer('nobody'), Object.fromEntries(operations.map((op) => [op, rule])));
  return { node, clock, service, officers, runs };
}

export function at<T>(list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new RangeError(`no item ${index}`);
  return item;
}

export type JournalEntry = Record<string, unknown> & { detail?: Record<string, unknown> };

/** The journal's event entries (checkpoints left out); read after the call's promise settled. */
export function journal(node: TestNode): JournalEntry[] {
  return readFileSync(node.journalPath, 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as JournalEntry)
    .filter((entry) => 'operation' in entry);
}
