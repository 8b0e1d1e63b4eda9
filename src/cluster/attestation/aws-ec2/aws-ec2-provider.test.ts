import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AttestationRefused, type AttestationContext } from '../attestation-provider.ts';
import { awsSigner, fixture, identityDocument, type AwsSigner, type Fixture } from '../attestation-test-kit.ts';
import { AwsEc2Provider, type AwsEc2Policy } from './aws-ec2-provider.ts';

let f: Fixture;
let aws: AwsSigner;
let other: AwsSigner;
before(async () => {
  f = await fixture();
  [aws, other] = await Promise.all([awsSigner(), awsSigner()]);
});
after(() => f.close());

function provider(policy: Partial<AwsEc2Policy> = {}): AwsEc2Provider {
  return new AwsEc2Provider({
    store: f.store, barrier: f.barrier,
    policy: { certificatesPem: aws.certificatePem, accountIds: ['123456789012'], regions: ['eu-west-1'], imageIds: ['ami-0123456789abcdef0'], ...policy },
  });
}

/** The fixture clock reads 2025-01-01T00:00:00Z; documents are launched 2 minutes before by default. */
function context(): AttestationContext {
  return { nodeName: 'node-2', joinPublicKey: 'A'.repeat(43), requestId: randomUUID(), domainId: f.domainId, now: f.clock.now() };
}

let instance = 0;
function document(fields: Partial<Record<string, string>> = {}): string {
  instance++;
  return identityDocument({ instanceId: `i-${instance.toString(16).padStart(17, '0')}`, pendingTime: '2024-12-31T23:58:00Z', ...fields });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof AttestationRefused, 'expected a refusal');
  assert.equal(error.code, 'JOIN_REFUSED');
  return error.reason;
}

describe('aws-ec2 provider', () => {
  it('admits a signed document once; the same instance again is a replay', async () => {
    const text = document();
    const evidence = { document: text, signature: aws.sign(text) };
    const result = await provider().verify(evidence, context());
    assert.equal(result.identity.provider, 'aws-ec2');
    assert.match(result.identity.subject, /^aws:123456789012:i-/);
    await f.store.commit(result.claim);
    result.committed();
    assert.equal(await refusal(provider().verify(evidence, context())), 'INSTANCE_ALREADY_ADMITTED');
  });

  it('two admitters racing on one document: the second claim conflicts', async () => {
    const text = document();
    const evidence = { document: text, signature: aws.sign(text) };
    const [a, b] = await Promise.all([provider().verify(evidence, context()), provider().verify(evidence, context())]);
    await f.store.commit(a.claim);
    await assert.rejects(f.store.commit(b.claim), { code: 'STORE_CONFLICT' });
  });

  it('refuses a bad signature: another key, an edited document, garbage', async () => {
    const text = document();
    assert.equal(await refusal(provider().verify({ document: text, signature: other.sign(text) }, context())), 'SIGNATURE_INVALID');
    const edited = text.replace('123456789012', '123456789013');
    assert.equal(await refusal(provider().verify({ document: edited, signature: aws.sign(text) }, context())), 'SIGNATURE_INVALID');
    assert.equal(await refusal(provider().verify({ document: text, signature: 'not base64!' }, context())), 'EVIDENCE_MALFORMED');
    assert.equal(await refusal(provider().verify({ document: text }, context())), 'EVIDENCE_MALFORMED');
  });

  it('refuses a wrong account, region or image', async () => {
    const cases: [Partial<Record<string, string>>, string][] = [
      [{ accountId: '999999999999' }, 'ACCOUNT_NOT_ALLOWED'],
      [{ region: 'us-east-1' }, 'REGION_NOT_ALLOWED'],
      [{ imageId: 'ami-00000000000000000' }, 'IMAGE_NOT_ALLOWED'],
    ];
    for (const [fields, reason] of cases) {
      const text = document(fields);
      assert.equal(await refusal(provider().verify({ document: text, signature: aws.sign(text) }, context())), reason);
    }
  });

  it('checks the asserted role only when roles are configured', async () => {
    const text = document();
    const p = provider({ roles: ['coffer-node'] });
    assert.equal(await refusal(p.verify({ document: text, signature: aws.sign(text) }, context())), 'ROLE_NOT_ALLOWED');
    assert.equal(await refusal(p.verify({ document: text, signature: aws.sign(text), role: 'admin' }, context())), 'ROLE_NOT_ALLOWED');
    const ok = await p.verify({ document: text, signature: aws.sign(text), role: 'coffer-node' }, context());
    assert.equal(ok.identity.provider, 'aws-ec2');
  });

  it('refuses a document outside the launch window (old, or launched in the future)', async () => {
    const old = document({ pendingTime: '2024-12-31T23:49:00Z' });
    assert.equal(await refusal(provider().verify({ document: old, signature: aws.sign(old) }, context())), 'OUTSIDE_LAUNCH_WINDOW');
    const ahead = document({ pendingTime: '2025-01-01T00:05:00Z' });
    assert.equal(await refusal(provider().verify({ document: ahead, signature: aws.sign(ahead) }, context())), 'OUTSIDE_LAUNCH_WINDOW');
    const wide = provider({ launchWindowMinutes: 15 });
    assert.equal((await wide.verify({ document: old, signature: aws.sign(old) }, context())).identity.provider, 'aws-ec2');
  });

  it('refuses a signed document that lacks the fields it needs', async () => {
    const text = JSON.stringify({ accountId: '123456789012', region: 'eu-west-1' });
    assert.equal(await refusal(provider().verify({ document: text, signature: aws.sign(text) }, context())), 'EVIDENCE_MALFORMED');
  });
});
