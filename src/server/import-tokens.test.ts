// Import tokens at library level, with an injected clock: 24-hour expiry, single use, owner binding, pruning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, openTestNode } from '../approvals/quorum/quorum-test-kit.ts';
import type { Caller } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import { IMPORT_TOKEN_LIFETIME_MS, ImportTokenService } from './import-tokens.ts';

const user = (principal: string): Caller => ({ principal, roles: ['user'], projects: ['alpha'], requestId: `req-${principal}` });

async function rejectsWith(call: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => error instanceof CofferError && error.code === code);
}

test('an import token expires after 24 hours, is single use and belongs to whoever asked for it', async (t) => {
  const clock = new ManualClock();
  const node = await openTestNode(t, clock);
  const tokens = new ImportTokenService({ store: node.store, barrier: node.barrier, audit: node.audit, clock });
  const ursula = user('ursula');
  const issued = await tokens.issue(ursula, { project: 'alpha', spec: 'EC_P256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
  assert.equal(Date.parse(issued.expiresAt) - clock.now().getTime(), IMPORT_TOKEN_LIFETIME_MS);
  assert.match(issued.wrappingPublicKey, /BEGIN PUBLIC KEY/);
  // Sealed by the barrier: the store never sees the private key.
  const raw = await node.store.get(`import-token/${issued.importToken}`);
  assert.ok(raw !== undefined && !Buffer.from(raw.value).toString('latin1').includes('PRIVATE'));

  await rejectsWith(tokens.spend(user('mallory'), issued.importToken, () => Promise.resolve()), 'IMPORT_TOKEN_NOT_FOUND');
  const spent = await tokens.spend(ursula, issued.importToken, (token) => Promise.resolve({ spec: token.spec, keySpec: token.keySpec, bytes: token.privateKey.length }));
  assert.deepEqual({ spec: spent.spec, keySpec: spent.keySpec }, { spec: 'EC_P256', keySpec: 'RSA_3072' });
  await rejectsWith(tokens.spend(ursula, issued.importToken, () => Promise.resolve()), 'IMPORT_TOKEN_NOT_FOUND');

  const late = await tokens.issue(ursula, { project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
  clock.advance(IMPORT_TOKEN_LIFETIME_MS - 1000);
  await tokens.describe(ursula, late.importToken);
  clock.advance(1000);
  await rejectsWith(tokens.spend(ursula, late.importToken, () => Promise.resolve()), 'IMPORT_TOKEN_EXPIRED');
  assert.equal(await tokens.pruneExpired(), 1);
  assert.equal(await node.store.get(`import-token/${late.importToken}`), undefined);
  await rejectsWith(tokens.spend(ursula, late.importToken, () => Promise.resolve()), 'IMPORT_TOKEN_NOT_FOUND');
});

test('tokens are for users of the project, with RSA wrapping only', async (t) => {
  const clock = new ManualClock();
  const node = await openTestNode(t, clock);
  const tokens = new ImportTokenService({ store: node.store, barrier: node.barrier, audit: node.audit, clock });
  await rejectsWith(tokens.issue(user('ursula'), { project: 'beta', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), 'ACCESS_DENIED');
  await rejectsWith(tokens.issue({ ...user('olivia'), roles: ['officer'] }, { project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), 'ACCESS_DENIED');
  await rejectsWith(tokens.issue(user('ursula'), { project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'AES_KWP' }), 'INCOMPATIBLE_ALGORITHM');
  await rejectsWith(tokens.issue(user('ursula'), { project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeyBits: 2048 }), 'INVALID_ARGUMENT');
  await rejectsWith(tokens.spend(user('ursula'), 'not-a-token', () => Promise.resolve()), 'IMPORT_TOKEN_NOT_FOUND');
});
