// Shared set-up for the key-use tests: a real node's parts (SQLite store, unsealed barrier, durable
// journal) from quorum-test-kit, a KeyEngine over the sealed key repository as CofferNode builds it,
// principals with approver keys made on their side (approver-side.ts), and a manual clock.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { TestContext } from 'node:test';
import { KeyEngine, type Caller } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import { SealedKeyRepository } from '../../store/key-repository/index.ts';
import { journal, ManualClock, openTestNode, type JournalEntry, type TestNode } from '../quorum/quorum-test-kit.ts';
import { generateApproverKeys, keyUseRequestDigest, releaseShare, signApproval, signRejection } from './approver-side.ts';
import { KeyUseService } from './key-use-service.ts';
import type { KeyUseRequestView } from './key-use-types.ts';

export { journal, ManualClock, type JournalEntry };

export interface TestApprover {
  readonly name: string;
  readonly caller: Caller;
  readonly signingKey: KeyObject;
  readonly sharePrivateKey: Uint8Array;
}

export interface KeyUseFixture {
  readonly node: TestNode;
  readonly clock: ManualClock;
  readonly engine: KeyEngine;
  readonly service: KeyUseService;
  /** The requester (key owner): a user of project alpha. */
  readonly alice: Caller;
  readonly approvers: readonly TestApprover[];
  readonly disabled: Set<string>;
  approver(name: string): TestApprover;
  /** Recomputes the digest from the view (as the CLI does), signs, and for sealed keys releases the share. */
  approve(approver: TestApprover, view: KeyUseRequestView): Promise<KeyUseRequestView>;
  reject(approver: TestApprover, view: KeyUseRequestView, reason?: string): Promise<KeyUseRequestView>;
}

let counter = 0;

export function user(principal: string, projects: readonly string[] = ['alpha']): Caller {
  return { principal, roles: ['user'], projects, requestId: `req-${principal}-${++counter}` };
}

export function approverNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `approver-${i}`);
}

/** A node with alice and `n` approvers, every approver's keys registered (odd ones sign with ECDSA P-256). */
export async function openKeyUseFixture(t: TestContext, n: number, options: { engine?: KeyEngine; node?: TestNode; clock?: ManualClock } = {}): Promise<KeyUseFixture> {
  const clock = options.clock ?? new ManualClock();
  const node = options.node ?? await openTestNode(t, clock);
  const engine = options.engine ?? new KeyEngine({ repository: new SealedKeyRepository(node.store, node.barrier), audit: node.audit, clock });
  const alice = user('alice');
  const disabled = new Set<string>();
  const callers = new Map<string, Caller>([['alice', alice], ['bob', user('bob')]]);
  const live = (name: string): Caller => {
    const found = callers.get(name);
    if (found === undefined || disabled.has(name)) throw new CofferError('PRINCIPAL_NOT_FOUND', 'no such principal');
    return found;
  };
  const service = new KeyUseService({
    store: node.store, barrier: node.barrier, audit: node.audit, engine, clock,
    resolveCaller: (name, requestId) => Promise.resolve({ ...live(name), requestId }),
    requirePrincipal: (name) => Promise.resolve(void live(name)),
  });
  t.after(() => {
    service.close();
  });
  const approvers: TestApprover[] = [];
  for (const [i, name] of approverNames(n).entries()) {
    const keys = generateApproverKeys();
    const signing = i % 2 === 0 ? { privateKey: keys.signingPrivateKey, pem: keys.signingPublicKeyPem } : (() => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { privateKey: pair.privateKey, pem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
    })();
    const caller = user(name);
    callers.set(name, caller);
    await service.registerApproverKeys(caller, { signingKey: signing.pem, shareKey: keys.sharePublicKey });
    approvers.push({ name, caller, signingKey: signing.privateKey, sharePrivateKey: keys.sharePrivateKey });
  }
  const approver = (name: string): TestApprover => approvers.find((a) => a.name === name) ?? assert.fail(`no approver ${name}`);
  return {
    node, clock, engine, service, alice, approvers, disabled, approver,
    approve: async (a, view) => {
      const digest = keyUseRequestDigest(view);
      assert.equal(digest, view.digest, 'the digest recomputed from the view');
      const released = view.sealed ? await releaseShare(a.sharePrivateKey, await service.shareFor(a.caller, view.requestId), digest) : undefined;
      return service.approve(a.caller, view.requestId, signApproval(a.signingKey, digest), released);
    },
    reject: (a, view, reason) => service.reject(a.caller, view.requestId, signRejection(a.signingKey, keyUseRequestDigest(view)), reason),
  };
}

export function at<T>(list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new RangeError(`no item ${index}`);
  return item;
}
