// Signing jobs end to end without a node: a real SQLite store, real uploads, real checks and formats,
// and an in-process key; the outputs are verified with node:crypto and openssl cms.
import assert from 'node:assert/strict';
import { createHash, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CofferError, isCofferError, type ErrorCode } from '../../core/errors.ts';
import type { KeySpec } from '../../core/key-record.ts';
import { checkCaProfile } from '../../pki/ca/ca-profile.ts';
import { signRootCertificate } from '../../pki/ca/certificate-authority.ts';
import { encodePem } from '../../pki/pem-blocks.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';
import { openssl } from '../../pki/pki-test-kit.ts';
import { parseDistinguishedName } from '../../pki/x509/distinguished-names.ts';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import type { KeySigner } from '../formats/index.ts';
import { localKeySigner, pkiSignerOf, type LocalKeySigner } from '../formats/local-key-signer-test-kit.ts';
import { parseProfile, type SigningProfile } from '../profiles/index.ts';
import { UploadStore, type CompletedUpload } from '../uploads/index.ts';
import { ANSWER_WINDOW_MS, ArtifactStore, JobPipeline, JobStore, type JobPipelineOptions, type SigningJob } from './index.ts';

const DAY_MS = 86_400_000;

/** A clock the test moves by hand. */
function manualClock(start = new Date('2026-03-01T12:00:00Z')): { now: () => Date; advance: (ms: number) => void } {
  let ms = start.getTime();
  return { now: () => new Date(ms), advance: (by: number) => { ms += by; } };
}

interface Harness {
  readonly dir: string;
  readonly jobs: JobStore;
  readonly artifacts: ArtifactStore;
  readonly uploads: UploadStore;
  readonly pipeline: JobPipeline;
  readonly clock: ReturnType<typeof manualClock>;
  upload(bytes: Buffer, hashes?: readonly PkiHash[]): Promise<CompletedUpload>;
}

type Parts = Partial<Pick<JobPipelineOptions, 'approvedKeySigner' | 'keySigner'>>;

async function harness(t: { after: (fn: () => Promise<void>) => unknown }, profiles: readonly SigningProfile[], key: KeySigner, parts: Parts = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-jobs-'));
  const store = await openSqliteStore(join(dir, 'signing.db'));
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const clock = manualClock();
  const jobs = new JobStore({ store, clock });
  const artifacts = new ArtifactStore({ dir: join(dir, 'artifacts'), clock });
  const uploads = new UploadStore({ dir: join(dir, 'uploads') });
  const byName = new Map(profiles.map((p) => [`${p.project}/${p.name}`, p]));
  const pipeline = new JobPipeline({
    store: jobs, artifacts, clock,
    profiles: (project, name) => {
      const found = byName.get(`${project}/${name}`);
      return found === undefined ? Promise.reject(new CofferError('INVALID_ARGUMENT', 'no such profile')) : Promise.resolve(found);
    },
    keySigner: () => Promise.resolve(key),
    ...parts,
  });
  return {
    dir, jobs, artifacts, uploads, pipeline, clock,
    async upload(bytes, hashes = ['SHA-256']) {
      const { uploadId } = await uploads.create({ hashes });
      await uploads.append(uploadId, 0, Readable.from([bytes]));
      return uploads.complete(uploadId);
    },
  };
}

function profile(fields: Record<string, unknown>): SigningProfile {
  return parseProfile({ project: 'web', name: 'release', format: 'raw', key: 'web/release-key', ...fields });
}

async function assertCode(run: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(run, (error: unknown) => isCofferError(error, code));
}

function states(job: SigningJob): string[] {
  return job.history.map((entry) => entry.state);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A self-signed certificate for the key, signed by the key itself, valid from before the jobs' manual clock to past today: enough for openssl cms -verify with -CAfile. */
async function certify(key: LocalKeySigner): Promise<{ signer: LocalKeySigner; certificatePem: string }> {
  const subject = parseDistinguishedName('CN=Coffer jobs test signer, O=Coffer').name;
  const issued = await signRootCertificate(pkiSignerOf(key, 'web'), { subject, publicKeyDer: key.publicKeyDer, validityDays: 800, profile: checkCaProfile({}), now: new Date('2026-02-28T00:00:00Z') });
  return { signer: { ...key, certificates: [issued.der] }, certificatePem: encodePem('CERTIFICATE', issued.der) };
}

describe('file jobs sign', () => {
  for (const [spec, hash] of [['EC_P256', 'sha256'], ['EC_P384', 'sha384']] as const satisfies readonly (readonly [KeySpec, string])[]) {
    it(`raw ${spec}: a passing size check, then a signature node:crypto verifies (${hash}${hash === 'sha256' ? ', from the upload' : ', re-hashed'})`, async (t) => {
      const key = localKeySigner(spec);
      const p = profile({ checks: [{ kind: 'maxSize', maxBytes: 1024 }], retentionDays: 7 });
      const h = await harness(t, [p], key);
      const file = Buffer.from('an artifact to sign\n');
      const job = await h.pipeline.submitFile(p, 'ci-bot', { ...await h.upload(file), fileName: 'app.bin', metadata: { branch: 'main' } });
      assert.equal(job.state, 'checking');
      const done = await h.pipeline.run(job.jobId);
      assert.equal(done.state, 'signed', JSON.stringify(done.failure));
      assert.deepEqual(states(done), ['checking', 'signing', 'signed']);
      assert.deepEqual(done.checks?.map((c) => [c.name, c.passed]), [['maxSize', true]]);
      assert.ok(done.result !== undefined);
      assert.equal(done.result.keyId, key.keyId);
      assert.equal(done.result.retainedUntil, new Date(h.clock.now().getTime() + 7 * DAY_MS).toISOString());
      const signature = await h.artifacts.read(done.result.signatureSha256);
      assert.equal(sha256(signature), done.result.signatureSha256);
      assert.ok(verify(hash, file, key.publicKeyPem, signature));
      assert.ok(!verify(hash, Buffer.from('another artifact\n'), key.publicKeyPem, signature));
      assert.deepEqual(key.calls.map((c) => c.input), ['digest']);
      // Files 0600 in a 0700 directory.
      assert.equal(statSync(join(h.dir, 'artifacts')).mode & 0o777, 0o700);
      assert.equal(statSync(join(h.dir, 'artifacts', `${done.result.signatureSha256}.out`)).mode & 0o777, 0o600);
      assert.deepEqual(await h.jobs.get(job.jobId), done);
    });
  }

  it('a file changed after submission (same size) is not signed: STORE_CORRUPT when it is re-hashed', async (t) => {
    const key = localKeySigner('EC_P384');
    const p = profile({});
    const h = await harness(t, [p], key);
    const upload = await h.upload(Buffer.from('the reviewed artifact\n'));
    const job = await h.pipeline.submitFile(p, 'ci-bot', { ...upload, metadata: {} });
    writeFileSync(upload.path, Buffer.from('the swapped artifact!\n'));
    const done = await h.pipeline.run(job.jobId);
    assert.equal(done.state, 'failed');
    assert.equal(done.failure?.code, 'STORE_CORRUPT');
    assert.deepEqual(key.calls, [], 'nothing was signed');
  });

  it('cms: openssl cms -verify accepts the retained output with the original file as content', async (t) => {
    const { signer, certificatePem } = await certify(localKeySigner('EC_P256'));
    const p = profile({ format: 'cms' });
    const h = await harness(t, [p], signer);
    const file = Buffer.from('a release tarball, say\n'.repeat(100));
    const done = await h.pipeline.run((await h.pipeline.submitFile(p, 'ci-bot', await h.upload(file))).jobId);
    assert.equal(done.state, 'signed', JSON.stringify(done.failure));
    assert.ok(done.result !== undefined);
    writeFileSync(join(h.dir, 'artifact.bin'), file);
    writeFileSync(join(h.dir, 'artifact.p7s'), await h.artifacts.read(done.result.signatureSha256));
    writeFileSync(join(h.dir, 'ca.pem'), certificatePem);
    writeFileSync(join(h.dir, 'other.bin'), Buffer.from('not the artifact'));
    const cms = (content: string) => openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'artifact.p7s', '-content', content, '-CAfile', 'ca.pem', '-purpose', 'any', '-out', '/dev/null'], h.dir);
    const accepted = await cms('artifact.bin');
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.notEqual((await cms('other.bin')).status, 0);
  });
});

describe('failures are recorded', () => {
  it('a failing external check fails the job with SIGNING_CHECK_FAILED, keeps its output, and never signs', async (t) => {
    const key = localKeySigner('EC_P256');
    const p = profile({ checks: [{ kind: 'maxSize', maxBytes: 1024 }, { kind: 'command', name: 'scan', argv: ['/bin/sh', '-c', 'echo bad input >&2; exit 3'] }] });
    let signers = 0;
    const h = await harness(t, [p], key, { keySigner: () => { signers++; return Promise.resolve(key); } });
    const done = await h.pipeline.run((await h.pipeline.submitFile(p, 'ci-bot', await h.upload(Buffer.from('x')))).jobId);
    assert.equal(done.state, 'failed');
    assert.deepEqual(states(done), ['checking', 'failed']);
    assert.equal(done.failure?.code, 'SIGNING_CHECK_FAILED');
    assert.equal(done.failure.check, 'scan');
    const scan = done.checks?.find((c) => c.name === 'scan');
    assert.equal(scan?.passed, false);
    assert.equal(scan.exitCode, 3);
    assert.match(scan.output, /bad input/);
    assert.equal(signers, 0);
    assert.equal(key.calls.length, 0);
    assert.equal(done.result, undefined);
  });

  it('an approved signer that is approved later: the request is recorded, awaiting-approval is observed, then signed once', async (t) => {
    const key = localKeySigner('EC_P256');
    const p = profile({ approval: { threshold: 1, approvers: ['alice'] } });
    let release: (() => void) | undefined;
    const seen: SigningJob[] = [];
    const h = await harness(t, [p], key, {
      approvedKeySigner: (_profile, job, progress) => {
        seen.push(job);
        return Promise.resolve({
          ...key,
          async sign(algorithm, input) {
            await progress.requested('11111111-2222-4333-8444-555555555555');
            await new Promise<void>((resolve) => { release = resolve; });
            await progress.approved();
            return key.sign(algorithm, input);
          },
        });
      },
    });
    const job = await h.pipeline.submitFile(p, 'ci-bot', await h.upload(Buffer.from('needs approval')));
    const running = h.pipeline.run(job.jobId);
    while (release === undefined) await delay(5);
    const waiting = await h.jobs.get(job.jobId);
    assert.equal(waiting.state, 'awaiting-approval');
    assert.equal(waiting.keyUseRequestId, '11111111-2222-4333-8444-555555555555');
    assert.equal(seen[0]?.state, 'awaiting-approval');
    assert.equal(key.calls.length, 0);
    assert.deepEqual(await h.jobs.activeJobIds(), [job.jobId]);
    // A second run of a job that is running is refused, whatever its state.
    await assertCode(() => h.pipeline.run(job.jobId), 'SIGNING_JOB_STATE');
    release();
    const done = await running;
    assert.equal(done.state, 'signed', JSON.stringify(done.failure));
    assert.deepEqual(states(done), ['checking', 'awaiting-approval', 'signing', 'signed']);
    assert.equal(key.calls.length, 1);
    assert.deepEqual(await h.jobs.activeJobIds(), []);
    // A finished job does not run again.
    await assertCode(() => h.pipeline.run(job.jobId), 'SIGNING_JOB_STATE');
  });

  it('resume: a job left awaiting approval waits on the request it made, a job left checking runs from its checks', async (t) => {
    const key = localKeySigner('EC_P256');
    const gated = profile({ approval: { threshold: 1, approvers: ['alice'] } });
    const plain = profile({ name: 'plain' });
    const resumedWith: (string | undefined)[] = [];
    const h = await harness(t, [gated, plain], key, {
      approvedKeySigner: (_profile, job, progress) => {
        resumedWith.push(job.keyUseRequestId);
        return Promise.resolve({
          ...key,
          async sign(algorithm, input) {
            if (job.keyUseRequestId === undefined) await progress.requested('11111111-2222-4333-8444-555555555555');
            await progress.approved();
            return key.sign(algorithm, input);
          },
        });
      },
    });
    // As a crash would leave them: one moved to awaiting-approval with its request noted, one never run.
    const waiting = await h.pipeline.submitFile(gated, 'ci-bot', await h.upload(Buffer.from('approved before the crash')));
    await h.jobs.transition(waiting.jobId, 'checking', 'awaiting-approval');
    await h.jobs.noteKeyUseRequest(waiting.jobId, '99999999-2222-4333-8444-555555555555');
    const fresh = await h.pipeline.submitFile(plain, 'ci-bot', await h.upload(Buffer.from('never run')));
    assert.deepEqual(new Set(await h.jobs.activeJobIds()), new Set([waiting.jobId, fresh.jobId]));
    const resumed = await h.pipeline.resume(waiting.jobId);
    assert.equal(resumed.state, 'signed', JSON.stringify(resumed.failure));
    assert.deepEqual(resumedWith, ['99999999-2222-4333-8444-555555555555']);
    assert.equal((await h.pipeline.resume(fresh.jobId)).state, 'signed');
    assert.deepEqual(await h.jobs.activeJobIds(), []);
    // A final job is returned as it is.
    assert.equal((await h.pipeline.resume(fresh.jobId)).state, 'signed');
    assert.equal(key.calls.length, 2);
  });

  it('a job runs once at a time: a second run while checks run is refused before it checks anything', async (t) => {
    const key = localKeySigner('EC_P256');
    const scratch = mkdtempSync(join(tmpdir(), 'coffer-jobs-count-'));
    t.after(() => { rmSync(scratch, { recursive: true, force: true }); });
    const counter = join(scratch, 'runs');
    const p = profile({ checks: [{ kind: 'command', name: 'slow', argv: ['/bin/sh', '-c', 'echo run >> "$0"; sleep 0.3', counter] }] });
    const h = await harness(t, [p], key);
    const job = await h.pipeline.submitFile(p, 'ci-bot', await h.upload(Buffer.from('x')));
    const first = h.pipeline.run(job.jobId);
    await assertCode(() => h.pipeline.run(job.jobId), 'SIGNING_JOB_STATE');
    assert.equal((await first).state, 'signed');
    assert.equal(readFileSync(counter, 'utf8'), 'run\n');
  });

  it('a rejected request fails the job with its code; no approved signer at all fails closed', async (t) => {
    const key = localKeySigner('EC_P256');
    const p = profile({ approval: { threshold: 1, approvers: ['alice'] } });
    const h = await harness(t, [p], key, {
      approvedKeySigner: (_profile, _job, progress) => Promise.resolve({
        ...key,
        async sign() {
          await progress.requested('11111111-2222-4333-8444-555555555555');
          throw new CofferError('APPROVAL_REJECTED', 'alice said no');
        },
      }),
    });
    const done = await h.pipeline.run((await h.pipeline.submitFile(p, 'ci-bot', await h.upload(Buffer.from('x')))).jobId);
    assert.equal(done.state, 'failed');
    assert.equal(done.failure?.code, 'APPROVAL_REJECTED');
    assert.deepEqual(states(done), ['checking', 'awaiting-approval', 'failed']);
    // A signer that returns a signature without reporting the approval is not trusted.
    const silent = await harness(t, [p], key, { approvedKeySigner: () => Promise.resolve(key) });
    const unreported = await silent.pipeline.run((await silent.pipeline.submitFile(p, 'ci-bot', await silent.upload(Buffer.from('x')))).jobId);
    assert.equal(unreported.failure?.code, 'APPROVAL_REQUIRED');
    const bare = await harness(t, [p], key);
    const closed = await bare.pipeline.run((await bare.pipeline.submitFile(p, 'ci-bot', await bare.upload(Buffer.from('x')))).jobId);
    assert.equal(closed.failure?.code, 'APPROVAL_REQUIRED');
    assert.equal(key.calls.length, 1);
  });
});

describe('digest submissions', () => {
  const file = Buffer.from('hashed by the builder');
  const digest = createHash('sha256').update(file).digest();

  it('allowed: signed over the submitted digest, file checks skipped and named, other checks run', async (t) => {
    const key = localKeySigner('EC_P256');
    const p = profile({ allowDigestSubmission: true, checks: [{ kind: 'allowedSubmitters', principals: ['ci-bot'] }, { kind: 'command', name: 'scan', argv: ['/bin/false'] }] });
    const h = await harness(t, [p], key);
    const done = await h.pipeline.run((await h.pipeline.submitDigest(p, 'ci-bot', { hash: 'SHA-256', digest, size: file.length })).jobId);
    assert.equal(done.state, 'signed', JSON.stringify(done.failure));
    assert.equal(done.submission, 'digest');
    assert.deepEqual(done.skippedChecks, ['scan']);
    assert.deepEqual(done.checks?.map((c) => c.name), ['allowedSubmitters']);
    assert.ok(done.result !== undefined);
    assert.ok(verify('sha256', file, key.publicKeyPem, await h.artifacts.read(done.result.signatureSha256)));
    // The submitter check still runs without a file.
    const refused = await h.pipeline.run((await h.pipeline.submitDigest(p, 'mallory', { hash: 'SHA-256', digest, size: file.length })).jobId);
    assert.equal(refused.failure?.code, 'SIGNING_CHECK_FAILED');
    assert.equal(refused.failure.check, 'allowedSubmitters');
  });

  it('refused: by the profile, for a JWS, and with a digest that does not fit the plan', async (t) => {
    const key = localKeySigner('EC_P256');
    const files = profile({});
    const jws = profile({ name: 'jws', format: 'jws', allowDigestSubmission: true });
    const raw = profile({ name: 'digests', allowDigestSubmission: true });
    const h = await harness(t, [files, jws, raw], key);
    await assertCode(() => h.pipeline.submitDigest(files, 'ci-bot', { hash: 'SHA-256', digest, size: 1 }), 'SIGNING_DIGEST_NOT_ALLOWED');
    await assertCode(() => h.pipeline.submitDigest(jws, 'ci-bot', { hash: 'SHA-256', digest, size: 1 }), 'SIGNING_DIGEST_NOT_ALLOWED');
    await assertCode(() => h.pipeline.submitDigest(raw, 'ci-bot', { hash: 'SHA-256', digest: digest.subarray(1), size: 1 }), 'INVALID_DIGEST');
    await assertCode(() => h.pipeline.submitDigest(raw, 'ci-bot', { hash: 'SHA-384', digest: Buffer.alloc(48), size: 1 }), 'INVALID_DIGEST');
    assert.deepEqual(await h.jobs.list('web'), []);
    // The same profile takes a fitting digest: the refusals above were about the digest.
    assert.equal((await h.pipeline.submitDigest(raw, 'ci-bot', { hash: 'SHA-256', digest, size: 1 })).state, 'checking');
  });
});

describe('the job store', () => {
  it('finds jobs by artifact digest and lists a project newest first, paged', async (t) => {
    const key = localKeySigner('EC_P256');
    const p = profile({});
    const other = profile({ project: 'api' });
    const h = await harness(t, [p, other], key);
    const file = Buffer.from('found later by its digest');
    const first = await h.pipeline.submitFile(p, 'ci-bot', await h.upload(file));
    h.clock.advance(1000);
    const second = await h.pipeline.submitFile(p, 'ci-bot', await h.upload(Buffer.from('another')));
    h.clock.advance(1000);
    const elsewhere = await h.pipeline.submitFile(other, 'ci-bot', await h.upload(file));
    assert.deepEqual((await h.jobs.findByDigest(sha256(file))).map((j) => j.jobId), [elsewhere.jobId, first.jobId]);
    assert.deepEqual((await h.jobs.findByDigest(sha256(file), 'web')).map((j) => j.jobId), [first.jobId]);
    assert.deepEqual(await h.jobs.findByDigest(sha256(Buffer.from('never submitted'))), []);
    await assertCode(() => h.jobs.findByDigest('../etc'), 'INVALID_ARGUMENT');
    assert.deepEqual((await h.jobs.list('web')).map((j) => j.jobId), [second.jobId, first.jobId]);
    assert.deepEqual((await h.jobs.list('web', { limit: 1 })).map((j) => j.jobId), [second.jobId]);
    assert.deepEqual((await h.jobs.list('web', { after: second.jobId })).map((j) => j.jobId), [first.jobId]);
    assert.deepEqual((await h.jobs.list('api')).map((j) => j.jobId), [elsewhere.jobId]);
    await assertCode(() => h.jobs.list('web', { after: elsewhere.jobId }), 'SIGNING_JOB_NOT_FOUND');
  });

  it('refuses illegal transitions and unknown or malformed job ids', async (t) => {
    const key = localKeySigner('EC_P256');
    const p = profile({});
    const h = await harness(t, [p], key);
    const job = await h.pipeline.submitFile(p, 'ci-bot', await h.upload(Buffer.from('x')));
    await assertCode(() => h.jobs.transition(job.jobId, 'checking', 'signed'), 'SIGNING_JOB_STATE');
    await assertCode(() => h.jobs.transition(job.jobId, 'signing', 'signed'), 'SIGNING_JOB_STATE');
    await assertCode(() => h.jobs.transition(job.jobId, 'failed', 'signing'), 'SIGNING_JOB_STATE');
    const moved = await h.jobs.transition(job.jobId, 'checking', 'signing');
    assert.deepEqual(states(moved), ['checking', 'signing']);
    await assertCode(() => h.jobs.transition(job.jobId, 'checking', 'signing'), 'SIGNING_JOB_STATE');
    await assertCode(() => h.pipeline.run(job.jobId), 'SIGNING_JOB_STATE');
    await assertCode(() => h.jobs.get(randomUUID()), 'SIGNING_JOB_NOT_FOUND');
    await assertCode(() => h.jobs.get('../../signing/job'), 'SIGNING_JOB_NOT_FOUND');
    await assertCode(() => h.pipeline.run(randomUUID()), 'SIGNING_JOB_NOT_FOUND');
    await assertCode(() => h.jobs.transition(randomUUID(), 'checking', 'signing'), 'SIGNING_JOB_NOT_FOUND');
  });
});

describe('retention', () => {
  it('an output past its deadline is swept and no longer readable; one within it stays', async (t) => {
    const key = localKeySigner('EC_P256');
    const week = profile({ retentionDays: 7 });
    const none = profile({ name: 'none', retentionDays: 0 });
    const h = await harness(t, [week, none], key);
    const kept = await h.pipeline.run((await h.pipeline.submitFile(week, 'ci-bot', await h.upload(Buffer.from('kept')))).jobId);
    const brief = await h.pipeline.run((await h.pipeline.submitFile(none, 'ci-bot', await h.upload(Buffer.from('brief')))).jobId);
    assert.ok(kept.result !== undefined && brief.result !== undefined);
    assert.equal(Date.parse(brief.result.retainedUntil) - h.clock.now().getTime(), ANSWER_WINDOW_MS);
    assert.equal(await h.artifacts.sweep(), 0);
    h.clock.advance(ANSWER_WINDOW_MS);
    await assertCode(() => h.artifacts.read(brief.result?.signatureSha256 ?? ''), 'SIGNING_ARTIFACT_NOT_FOUND');
    assert.equal(await h.artifacts.sweep(), 1);
    assert.ok((await h.artifacts.read(kept.result.signatureSha256)).length > 0);
    h.clock.advance(7 * DAY_MS);
    assert.equal(await h.artifacts.sweep(h.clock.now()), 1);
    await assertCode(() => h.artifacts.read(kept.result?.signatureSha256 ?? ''), 'SIGNING_ARTIFACT_NOT_FOUND');
    await assertCode(() => h.artifacts.read('../../etc/passwd'), 'SIGNING_ARTIFACT_NOT_FOUND');
  });
});
