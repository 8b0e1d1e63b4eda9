// Shared set-up for the identity tests: a real unsealed node (SQLite, barrier, durable journal), a
// directory over it with a manual clock, callers for each role, and a reader for the audit journal.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createCustodianKeyPair, openShare, type CustodianKeyPair, type DomainDescriptor } from '../../barrier/index.ts';
import type { Caller, Role } from '../../core/engine/index.ts';
import type { Clock } from '../../core/ports.ts';
import { CofferNode } from '../coffer-node.ts';
import { PrincipalDirectory, type PrincipalDirectoryOptions } from './principal-directory.ts';

// test/node-kit.ts does this for tests outside src/; the layer check keeps src/ from importing it.

export interface TestDomain {
  readonly custodian: CustodianKeyPair;
  readonly descriptor: DomainDescriptor;
}

/** Unseals `node` with the 1-of-1 domain's only share. */
export async function unseal(node: CofferNode, domain: TestDomain): Promise<void> {
  const entry = domain.descriptor.custodians[0];
  if (entry === undefined) throw new Error('no custodian');
  const share = await openShare(domain.custodian.privateKey, domain.descriptor, entry.id);
  try {
    await node.unsealWithShares([{ custodianId: entry.id, share }]);
  } finally {
    share.fill(0);
  }
}

/** A fresh, unsealed node with a 1-of-1 domain in a temporary directory, closed and removed after the test. */
export async function openTestNode(t: TestContext): Promise<{ node: CofferNode; domain: TestDomain; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-identity-'));
  t.after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  const node = await CofferNode.open({ dataDir, nodeId: 'test-node' });
  t.after(() => node.close());
  const custodian = createCustodianKeyPair();
  const descriptor = await node.initDomain({ custodians: [{ name: 'custodian-0', publicKey: custodian.publicKey }], threshold: 1 });
  const domain = { custodian, descriptor };
  await unseal(node, domain);
  return { node, domain, dataDir };
}

export const OFFICER_PASSWORD = 'officer-pass-phrase-1';

export class ManualClock implements Clock {
  #ms: number;

  constructor(start = Date.parse('2030-01-01T00:00:00Z')) {
    this.#ms = start;
  }

  now(): Date {
    return new Date(this.#ms);
  }

  advance(seconds: number): void {
    this.#ms += seconds * 1000;
  }
}

let requestCounter = 0;

export function caller(principal: string, role: Role, projects: readonly string[] = []): Caller {
  return { principal, roles: [role], projects, requestId: `req-${principal}-${++requestCounter}` };
}

/** A fingerprint as the server computes it: SHA-256 of (here random) DER, lowercase hex. */
export function fingerprint(): string {
  return createHash('sha256').update(randomBytes(32)).digest('hex');
}

export interface Fixture {
  readonly node: CofferNode;
  readonly directory: PrincipalDirectory;
  readonly clock: ManualClock;
  readonly dataDir: string;
  readonly domain: TestDomain;
  /** The bootstrapped officer "olivia" (password OFFICER_PASSWORD when asked for). */
  readonly officer: Caller;
}

type Extra = Omit<PrincipalDirectoryOptions, 'store' | 'barrier' | 'audit' | 'clock'>;

export function directoryFor(node: CofferNode, clock: Clock, extra: Extra = {}): PrincipalDirectory {
  return new PrincipalDirectory({ store: node.store, barrier: node.barrier, audit: node.audit, clock, ...extra });
}

/** A fresh node with a directory and the first officer bootstrapped (no password unless asked). */
export async function openFixture(t: TestContext, options: { officerPassword?: boolean; extra?: Extra } = {}): Promise<Fixture> {
  const { node, dataDir, domain } = await openTestNode(t);
  const clock = new ManualClock();
  const directory = directoryFor(node, clock, options.extra);
  await directory.bootstrapOfficer({ name: 'olivia', ...(options.officerPassword === true ? { password: OFFICER_PASSWORD } : {}) });
  return { node, directory, clock, dataDir, domain, officer: caller('olivia', 'officer') };
}

export type JournalEntry = Record<string, unknown> & { detail?: Record<string, unknown> };

/** The journal's event entries (checkpoints left out); read after the call's promise settled. */
export function journal(node: CofferNode): JournalEntry[] {
  return readFileSync(node.journalPath, 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as JournalEntry)
    .filter((entry) => 'operation' in entry);
}

/** The one entry with this request id; throws unless there is exactly one. */
export function entryFor(node: CofferNode, requestId: string): JournalEntry {
  const found = journal(node).filter((e) => e['requestId'] === requestId);
  if (found.length !== 1) throw new Error(`expected one audit entry for ${requestId}, found ${found.length}`);
  return found[0] as JournalEntry;
}
