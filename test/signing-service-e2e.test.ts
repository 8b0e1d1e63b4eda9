// The signing service end to end: a real node and a real signer (`coffer signer`'s startSigner) on
// loopback over mutual TLS, builders on the signer's SDK and CLI, and every output checked by its
// standard tool (openssl for raw and CMS, jose for JWS). Also: project isolation, a 2-of-3 approval
// profile across a signer restart, a failing external check, an interrupted upload, bad input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { flattenedVerify, importSPKI } from 'jose';
import { generateApproverKeys } from '../src/approvals/key-use/index.ts';
import { CofferApiError, type ApproverKeys, type CofferClient } from '../src/client/index.ts';
import { coffer, ok } from './coffer-command-kit.ts';
import { journal } from './tls-node-kit.ts';
import { openssl, PASSWORD, publicKeyFile, refusedWith, sha256, SIGNER, signedJob, signerJournal, signingKey, world } from './signer-world-kit.ts';

describe('the signing service', () => {
  it('signs raw, CMS with a time-stamp and JWS jobs that openssl and jose verify; finds them by artifact digest; audits and counts every step', { timeout: 180_000 }, async (t) => {
    const w = await world(t);
    const ursula = await w.as('ursula');
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const artifact = join(w.node.dir, 'release.bin');
    writeFileSync(artifact, bytes);

    await signingKey(w, 'raw', 'EC_P384');
    await signingKey(w, 'jws', 'RSA_2048');
    await w.ursula.keys.create({ project: 'alpha', name: 'ca', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const ca = await w.ursula.pki.createCa({ name: 'ca', key: 'alpha/ca', subject: 'CN=Release CA, O=Acme' });
    await signingKey(w, 'cms', 'RSA_3072');
    await w.ursula.pki.issueForKey('alpha/ca', 'alpha/cms', { subject: 'CN=Release signer, O=Acme', extendedKeyUsage: ['codeSigning'] });
    await signingKey(w, 'tsa', 'EC_P256');
    await w.ursula.pki.issueForKey('alpha/ca', 'alpha/tsa', { subject: 'CN=Release TSA, O=Acme', extendedKeyUsage: ['timeStamping'] });

    await ursula.putProfile('alpha', 'raw', { format: 'raw', key: 'alpha/raw', checks: [{ kind: 'maxSize', name: 'size', maxBytes: 64 * 1024 * 1024 }] });
    await ursula.putProfile('alpha', 'cms', { format: 'cms', key: 'alpha/cms', timeStampKey: 'alpha/tsa', retentionDays: 7 });
    await ursula.putProfile('alpha', 'jws', { format: 'jws', key: 'alpha/jws', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' });

    const raw = await signedJob(ursula, 'alpha', 'raw', artifact);
    assert.equal(raw.artifact.digests['SHA-256'], sha256(bytes));
    assert.equal(raw.artifact.size, bytes.length);
    assert.deepEqual(raw.history.map((h) => h.state), ['checking', 'signing', 'signed']);
    const rawOut = await ursula.jobOutput(raw.jobId);
    const sigPath = join(w.node.dir, 'release.bin.sig');
    writeFileSync(sigPath, rawOut.bytes);
    const rawVerified = openssl(['dgst', '-sha384', '-verify', await publicKeyFile(w, 'alpha/raw'), '-signature', sigPath, artifact]);
    assert.ok(rawVerified.ok && /Verified OK/.test(rawVerified.out), rawVerified.out);

    const cms = await signedJob(ursula, 'alpha', 'cms', artifact);
    const p7s = join(w.node.dir, 'release.bin.p7s');
    writeFileSync(p7s, (await ursula.jobOutput(cms.jobId)).bytes);
    const root = join(w.node.dir, 'release-ca.pem');
    writeFileSync(root, ca.certificate);
    const cmsVerified = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7s, '-content', artifact, '-CAfile', root, '-purpose', 'any', '-out', '/dev/null']);
    assert.ok(cmsVerified.ok && /Verification successful/.test(cmsVerified.out), cmsVerified.out);
    assert.match(openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', p7s]).out, /id-smime-aa-timeStampToken/);

    const jws = await signedJob(ursula, 'alpha', 'jws', artifact);
    const [header, payload, signature] = (await ursula.jobOutput(jws.jobId)).bytes.toString('ascii').split('.');
    assert.equal(payload, '');
    const jwsKey = await importSPKI((await w.ursula.keys.publicKey('alpha/jws')).pem, 'RS256');
    await flattenedVerify({ protected: header ?? '', payload: bytes, signature: signature ?? '' }, jwsKey);
    await assert.rejects(flattenedVerify({ protected: header ?? '', payload: Buffer.concat([bytes, Buffer.from('!')]), signature: signature ?? '' }, jwsKey));

    // Looked up afterwards by the artifact's digest; outputs addressed by their own digest.
    const found = await ursula.findByArtifact('alpha', sha256(bytes));
    assert.deepEqual(new Set(found.map((job) => job.jobId)), new Set([raw.jobId, cms.jobId, jws.jobId]));
    const byDigest = await ursula.output('alpha', rawOut.sha256);
    assert.ok(byDigest.bytes.equals(rawOut.bytes));
    // Paged, newest first: two pages of two, the cursor from the first giving the second.
    const first = await ursula.listJobsPage('alpha', { limit: 2 });
    assert.deepEqual(first.jobs.map((job) => job.jobId), [jws.jobId, cms.jobId]);
    assert.equal(first.next, cms.jobId);
    const second = await ursula.listJobsPage('alpha', { limit: 2, after: first.next ?? '' });
    assert.deepEqual(second.jobs.map((job) => job.jobId), [raw.jobId]);
    assert.equal(second.next, undefined);
    assert.deepEqual((await ursula.listJobsPage('alpha', { state: 'failed' })).jobs, []);

    // The CLI: a submission with --wait writes FILE.sig next to the file; openssl verifies it.
    const cliFile = join(w.node.dir, 'cli.bin');
    writeFileSync(cliFile, randomBytes(200_000));
    const env = { COFFER_SIGNER_URL: w.signer.url, COFFER_CA: w.node.pki.caPath, COFFER_CERT: w.node.pki.user.certPath, COFFER_KEY: w.node.pki.user.keyPath, COFFER_URL: w.node.url };
    ok(await coffer(['signing', 'submit', 'alpha', 'raw', cliFile, '--wait', '--meta', 'branch=main'], env), 'signing submit --wait');
    const cliVerified = openssl(['dgst', '-sha384', '-verify', await publicKeyFile(w, 'alpha/raw'), '-signature', `${cliFile}.sig`, cliFile]);
    assert.ok(cliVerified.ok && /Verified OK/.test(cliVerified.out), cliVerified.out);

    // Direct mode: ursula signs with her own key in Coffer and reports to the signer.
    ok(await coffer(['sign', 'alpha/raw', '--direct', '--in', cliFile, '--out', join(w.node.dir, 'direct.sig'), '--profile', 'raw'], env), 'sign --direct --profile');
    const stats = await ursula.stats({ groupBy: ['project', 'profile', 'path', 'outcome'] });
    const count = (profile: string, path: string): number => stats.rows.find((row) => row.profile === profile && row.path === path && row.outcome === 'signed')?.count ?? 0;
    assert.deepEqual([count('raw', 'service'), count('cms', 'service'), count('jws', 'service'), count('raw', 'direct')], [2, 1, 1, 1], JSON.stringify(stats.rows));

    // The signer's journal: each state of each job with the submitter, the artifact's digest and size.
    const entries = signerJournal(w);
    const steps = entries.filter((e) => (e['detail'] as Record<string, unknown> | undefined)?.['jobId'] === raw.jobId && String(e['operation']).startsWith('signing.job.'));
    assert.deepEqual(steps.map((e) => e['operation']), ['signing.job.checking', 'signing.job.signing', 'signing.job.signed']);
    for (const step of steps) {
      assert.equal(step['principal'], 'ursula');
      assert.equal(step['inputDigest'], sha256(bytes));
      assert.equal((step['detail'] as Record<string, unknown>)['size'], bytes.length);
    }
    assert.ok(entries.some((e) => e['operation'] === 'signing.telemetry' && e['outcome'] === 'ALLOWED'));
    // Coffer saw the signer (not the builder) sign, and never the artifact.
    const signs = journal(w.node).filter((e) => e['operation'] === 'crypto.sign' && e['principal'] === SIGNER && e['outcome'] === 'ALLOWED');
    assert.ok(signs.length >= 4, JSON.stringify(signs.length));
    assert.equal(JSON.stringify(entries).includes(bytes.subarray(0, 48).toString('base64')), false);
  });

  it('isolates projects: no sight or use of another project\'s keys, profiles, jobs or outputs', { timeout: 120_000 }, async (t) => {
    const w = await world(t);
    const olivia = await w.as('olivia');
    await olivia.createProject({ name: 'beta' });
    await olivia.setMember('beta', 'bruno', ['admin', 'submitter']);
    const ursula = await w.as('ursula');
    const bruno = await w.as('bruno');
    assert.equal((await bruno.whoami()).authenticatedBy, 'token');

    await signingKey(w, 'release', 'EC_P256');
    await ursula.putProfile('alpha', 'release', { format: 'raw', key: 'alpha/release', allowDigestSubmission: true });
    const file = join(w.node.dir, 'alpha.bin');
    writeFileSync(file, randomBytes(10_000));
    const job = await signedJob(ursula, 'alpha', 'release', file);

    // bruno's project cannot name alpha's key, even shared with the signer; nor a key the signer cannot use.
    await refusedWith(bruno.putProfile('beta', 'steal', { format: 'raw', key: 'alpha/release' }), 'SIGNING_PROFILE_KEY_INVALID');
    const brunoCoffer = w.node.client();
    await brunoCoffer.auth.login('bruno', PASSWORD);
    await brunoCoffer.keys.create({ project: 'beta', name: 'own', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    await refusedWith(bruno.putProfile('beta', 'unshared', { format: 'raw', key: 'beta/own' }), 'SIGNING_PROFILE_KEY_INVALID');
    await brunoCoffer.keys.share('beta/own', SIGNER);
    await bruno.putProfile('beta', 'own', { format: 'raw', key: 'beta/own' });

    assert.deepEqual((await bruno.listProjects()).map((p) => p.name), ['beta']);
    assert.deepEqual((await ursula.listProjects()).map((p) => p.name), ['alpha']);
    await refusedWith(bruno.getProject('alpha'), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.listProfiles('alpha'), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.getProfile('alpha', 'release'), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.listJobs('alpha'), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.getJob(job.jobId), 'SIGNING_JOB_NOT_FOUND');
    await refusedWith(bruno.jobOutput(job.jobId), 'SIGNING_JOB_NOT_FOUND');
    await refusedWith(bruno.findByArtifact('alpha', job.artifact.digests['SHA-256'] ?? ''), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.output('alpha', job.result?.signatureSha256 ?? ''), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.createUpload('alpha', { profile: 'release', size: 1 }), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.submitJob('alpha', { profile: 'release', digest: { hash: 'SHA-256', value: 'ab'.repeat(32) }, size: 1 }), 'SIGNING_PROJECT_NOT_FOUND');
    await refusedWith(bruno.sendTelemetry({ project: 'alpha', profile: 'release', digest: { hash: 'SHA-256', value: 'ab'.repeat(32) }, size: 1, outcome: 'signed', durationMs: 1 }), 'SIGNING_PROJECT_NOT_FOUND');
    // Nor through its own project: a beta profile's output is not reachable as alpha's, and the other way round.
    await refusedWith(bruno.output('beta', job.result?.signatureSha256 ?? ''), 'SIGNING_ARTIFACT_NOT_FOUND');
    assert.deepEqual(await bruno.findByArtifact('beta', job.artifact.digests['SHA-256'] ?? ''), []);
    await refusedWith(ursula.getProject('beta'), 'SIGNING_PROJECT_NOT_FOUND');
    // Stats: each sees only their own project's rows.
    assert.deepEqual(new Set((await bruno.stats({ groupBy: ['project'] })).rows.map((row) => row.project)), new Set());
    await refusedWith(bruno.stats({ project: 'alpha' }), 'SIGNING_PROJECT_NOT_FOUND');

    // A signer auditor reads every project and changes nothing.
    const audrey = await w.as('audrey');
    assert.deepEqual((await audrey.listProjects()).map((p) => p.name).sort(), ['alpha', 'beta']);
    assert.equal((await audrey.getJob(job.jobId)).state, 'signed');
    assert.ok((await audrey.jobOutput(job.jobId)).bytes.length > 0);
    assert.deepEqual((await audrey.stats({ groupBy: ['project'] })).rows.map((row) => row.project), ['alpha']);
    await refusedWith(audrey.submitJob('alpha', { profile: 'release', digest: { hash: 'SHA-256', value: 'ab'.repeat(32) }, size: 1 }), 'ACCESS_DENIED');
    await refusedWith(audrey.putProfile('alpha', 'mine', { format: 'raw', key: 'alpha/release' }), 'ACCESS_DENIED');
    await refusedWith(audrey.setMember('alpha', 'audrey', ['admin']), 'ACCESS_DENIED');
  });

  it('a 2-of-3 approval profile blocks until two approvers approved in Coffer, survives a signer restart, and signs once', { timeout: 180_000 }, async (t) => {
    const approvers = ['ann', 'bob', 'cy'] as const;
    const w = await world(t, approvers);
    const keys: Record<string, ApproverKeys> = {};
    const coffers: Record<string, CofferClient> = {};
    for (const name of approvers) {
      const client = w.node.client();
      await client.auth.login(name, PASSWORD);
      const pair = generateApproverKeys();
      await client.keyUse.registerApproverKeys({ signingKey: pair.signingPublicKeyPem });
      keys[name] = { signingKey: pair.signingPrivateKey };
      coffers[name] = client;
    }
    const keyId = await signingKey(w, 'guarded', 'EC_P256', { approval: { threshold: 2, approvers: [...approvers] } });
    const ursula = await w.as('ursula');
    // The approvers must be approvers of the signing project, and the profile must state the key's own policy.
    await refusedWith(ursula.putProfile('alpha', 'guarded', { format: 'raw', key: 'alpha/guarded', approval: { threshold: 2, approvers: [...approvers] } }), 'INVALID_ARGUMENT');
    for (const name of approvers) await ursula.setMember('alpha', name, ['approver']);
    await refusedWith(ursula.putProfile('alpha', 'guarded', { format: 'raw', key: 'alpha/guarded', approval: { threshold: 1, approvers: [...approvers] } }), 'SIGNING_PROFILE_KEY_INVALID');
    await refusedWith(ursula.putProfile('alpha', 'guarded', { format: 'raw', key: 'alpha/guarded' }), 'SIGNING_PROFILE_KEY_INVALID');
    await ursula.putProfile('alpha', 'guarded', { format: 'raw', key: 'alpha/guarded', approval: { threshold: 2, approvers: ['cy', 'ann', 'bob'] } });

    const bytes = randomBytes(100_000);
    const file = join(w.node.dir, 'guarded.bin');
    writeFileSync(file, bytes);
    const upload = await ursula.uploadFile('alpha', 'guarded', file);
    const submitted = await ursula.submitJob('alpha', { profile: 'guarded', uploadId: upload.uploadId });
    let job = await ursula.getJob(submitted.jobId, { waitSeconds: 2 });
    for (let i = 0; job.keyUseRequestId === undefined && i < 50; i++) job = await ursula.getJob(submitted.jobId, { waitSeconds: 1 });
    assert.equal(job.state, 'awaiting-approval');
    const requestId = job.keyUseRequestId ?? assert.fail('no key-use request recorded');
    // What approvers see in Coffer: the job and its artifact, bound into the request's digest.
    const shown = await coffers['ann']?.keyUse.show(requestId) ?? assert.fail('ann');
    assert.deepEqual([shown.requester, shown.metadata['signingJob'], shown.metadata['artifactSha256'], shown.metadata['submitter']], [SIGNER, job.jobId, sha256(bytes), 'ursula']);
    // An approver of the signing project sees the waiting job; approving is Coffer's business.
    const ann = await w.as('ann');
    assert.equal((await ann.getJob(job.jobId)).state, 'awaiting-approval');
    await refusedWith(ann.createUpload('alpha', { profile: 'guarded', size: 1 }), 'ACCESS_DENIED');

    await coffers['ann']?.keyUse.approveAsApprover(requestId, keys['ann'] ?? assert.fail('keys'));
    assert.equal((await ursula.getJob(job.jobId, { waitSeconds: 1 })).state, 'awaiting-approval', 'one approval of two is not enough');

    // The signer stops while the job waits; started again it waits on the same request.
    await w.restart();
    assert.equal(w.signer.resumed, 1);
    const again = await ursula.getJob(job.jobId);
    assert.deepEqual([again.state, again.keyUseRequestId], ['awaiting-approval', requestId]);

    await coffers['cy']?.keyUse.approveAsApprover(requestId, keys['cy'] ?? assert.fail('keys'));
    const done = await ursula.waitForJob(job.jobId, 60);
    assert.equal(done.state, 'signed', JSON.stringify(done.failure));
    assert.deepEqual(done.history.map((h) => h.state), ['checking', 'awaiting-approval', 'signing', 'signed']);
    const output = await ursula.jobOutput(done.jobId);
    const publicKey = createPublicKey((await w.ursula.keys.publicKey(keyId)).pem);
    assert.ok(verifySignature('sha256', bytes, publicKey, output.bytes), 'the approved signature is over the artifact');
    // Signed once: one approved use in Coffer, and the key still refuses plain signing.
    const signs = journal(w.node).filter((e) => e['operation'] === 'crypto.sign' && e['keyId'] === keyId && e['outcome'] === 'ALLOWED');
    assert.equal(signs.length, 1);
    await refusedWith(w.ursula.crypto.sign({ keyId, algorithm: 'ECDSA_SHA_256', message: bytes }), 'APPROVAL_REQUIRED');
    const approvalSteps = signerJournal(w).filter((e) => (e['detail'] as Record<string, unknown> | undefined)?.['keyUseRequestId'] === requestId);
    assert.ok(approvalSteps.some((e) => e['operation'] === 'signing.job.signed'));

    // The key's OpenPGP certificate: its self-certification waits for the approvers too, then gpg imports it.
    const certificate = join(w.node.dir, 'guarded.asc');
    const env = { COFFER_URL: w.node.url, COFFER_CA: w.node.pki.caPath, COFFER_CERT: w.node.pki.user.certPath, COFFER_KEY: w.node.pki.user.keyPath };
    const exporting = coffer(['openpgp', 'key', 'alpha/guarded', '--user-id', 'Guarded Releases <guarded@acme.example>', '--out', certificate], env);
    const bob = coffers['bob'] ?? assert.fail('bob');
    let waiting = await bob.keyUse.list();
    for (let i = 0; waiting.length === 0 && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      waiting = await bob.keyUse.list();
    }
    const certification = waiting[0] ?? assert.fail('no key-use request for the certification');
    assert.equal(certification.metadata['purpose'], 'OpenPGP certificate');
    await bob.keyUse.approveAsApprover(certification.requestId, keys['bob'] ?? assert.fail('keys'));
    await coffers['cy']?.keyUse.approveAsApprover(certification.requestId, keys['cy'] ?? assert.fail('keys'));
    ok(await exporting, 'openpgp key of a key with approvers');
    const gnupg = join(w.node.dir, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    t.after(() => {
      spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'all']);
    });
    const imported = spawnSync('gpg', ['--homedir', gnupg, '--batch', '--no-tty', '--import', certificate], { encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stderr, /Guarded Releases <guarded@acme\.example>/);
  });

  it('a failing external check blocks signing and keeps its output; an interrupted upload resumes; bad input gets clear codes', { timeout: 120_000 }, async (t) => {
    const w = await world(t);
    const ursula = await w.as('ursula');
    const keyId = await signingKey(w, 'release', 'EC_P256');
    await ursula.putProfile('alpha', 'scanned', {
      format: 'raw', key: 'alpha/release',
      checks: [{ kind: 'command', name: 'scanner', argv: ['/bin/sh', '-c', 'echo "scanner: EICAR-like pattern in $0"; exit 3', '{path}'], timeoutMs: 10_000 }],
    });
    await ursula.putProfile('alpha', 'release', { format: 'raw', key: 'alpha/release', allowDigestSubmission: true });
    const file = join(w.node.dir, 'bad.bin');
    writeFileSync(file, randomBytes(4096));
    const failed = await ursula.signFile('alpha', 'scanned', file, { waitSeconds: 60 });
    assert.equal(failed.state, 'failed');
    assert.deepEqual([failed.failure?.code, failed.failure?.check], ['SIGNING_CHECK_FAILED', 'scanner']);
    const scanner = failed.checks?.find((check) => check.name === 'scanner') ?? assert.fail('the scanner result is kept');
    assert.equal(scanner.passed, false);
    assert.match(scanner.output, /scanner: EICAR-like pattern in \/.*\.part/);
    await refusedWith(ursula.jobOutput(failed.jobId), 'SIGNING_JOB_STATE');
    assert.equal(journal(w.node).filter((e) => e['operation'] === 'crypto.sign' && e['keyId'] === keyId).length, 0, 'nothing was signed');

    // An upload cut off half way: what arrived stays; the rest is sent from the offset the signer reports.
    const bytes = randomBytes(3 * 1024 * 1024);
    const upload = await ursula.createUpload('alpha', { profile: 'release', size: bytes.length, fileName: 'resumed.bin' });
    const half = 1024 * 1024 + 17;
    const broken = Readable.from((async function* broken() {
      yield bytes.subarray(0, half);
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new Error('the network went away');
    })());
    await assert.rejects(ursula.appendUpload(upload.uploadId, 0, broken, { length: bytes.length }));
    let status = await ursula.uploadStatus(upload.uploadId);
    for (let i = 0; status.offset < half && i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await ursula.uploadStatus(upload.uploadId);
    }
    assert.equal(status.offset, half, 'the signer kept what arrived');
    assert.equal(status.complete, false);
    // A truncated upload does not become a job (once the cut-off request has ended on the signer's side).
    for (let i = 0; i < 50; i++) {
      const refusal = await ursula.submitJob('alpha', { profile: 'release', uploadId: upload.uploadId }).then(() => undefined, (e: unknown) => e);
      if (refusal instanceof CofferApiError && refusal.code === 'UPLOAD_IN_PROGRESS') {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      assert.ok(refusal instanceof CofferApiError && refusal.code === 'UPLOAD_INCOMPLETE', String(refusal));
      break;
    }
    await refusedWith(ursula.appendUpload(upload.uploadId, 0, Readable.from([bytes.subarray(0, 10)]), { length: 10 }), 'UPLOAD_OFFSET_MISMATCH');
    await ursula.appendUpload(upload.uploadId, status.offset, Readable.from([bytes.subarray(status.offset)]), { length: bytes.length - status.offset });
    const submitted = await ursula.submitJob('alpha', { profile: 'release', uploadId: upload.uploadId });
    const resumed = await ursula.waitForJob(submitted.jobId, 60);
    assert.equal(resumed.state, 'signed', JSON.stringify(resumed.failure));
    assert.equal(resumed.artifact.digests['SHA-256'], sha256(bytes));
    assert.ok(verifySignature('sha256', bytes, createPublicKey((await w.ursula.keys.publicKey(keyId)).pem), (await ursula.jobOutput(resumed.jobId)).bytes));

    // Bad input: a digest of the wrong length, an unknown profile, oversized metadata, a digest where files only are taken.
    await refusedWith(ursula.submitJob('alpha', { profile: 'release', digest: { hash: 'SHA-256', value: 'ab'.repeat(31) }, size: 10 }), 'INVALID_DIGEST');
    await refusedWith(ursula.submitJob('alpha', { profile: 'nope', digest: { hash: 'SHA-256', value: 'ab'.repeat(32) }, size: 10 }), 'SIGNING_PROFILE_NOT_FOUND');
    await refusedWith(ursula.createUpload('alpha', { profile: 'nope', size: 10 }), 'SIGNING_PROFILE_NOT_FOUND');
    await refusedWith(ursula.createUpload('alpha', { profile: 'release', size: 10, metadata: { notes: 'x'.repeat(20_000) } }), 'INPUT_TOO_LARGE');
    await refusedWith(ursula.submitJob('alpha', { profile: 'scanned', digest: { hash: 'SHA-256', value: 'ab'.repeat(32) }, size: 10 }), 'SIGNING_DIGEST_NOT_ALLOWED');
    await refusedWith(ursula.putProfile('alpha', 'broken', { format: 'raw', key: 'alpha/release', retentionDays: -1 }), 'INVALID_ARGUMENT');
    await refusedWith(ursula.getJob('7f8c9e52-0000-4000-8000-000000000000'), 'SIGNING_JOB_NOT_FOUND');
    // A digest submission that fits is signed over that digest.
    const digested = await ursula.submitJob('alpha', { profile: 'release', digest: { hash: 'SHA-256', value: sha256(bytes) }, size: bytes.length, metadata: { branch: 'main' } });
    const digestJob = await ursula.waitForJob(digested.jobId, 60);
    assert.equal(digestJob.state, 'signed', JSON.stringify(digestJob.failure));
    assert.ok(verifySignature('sha256', bytes, createPublicKey((await w.ursula.keys.publicKey(keyId)).pem), (await ursula.jobOutput(digestJob.jobId)).bytes));

    // With Coffer gone, what needs it is refused with the signer's own code (503), not the SDK's; the rest still answers.
    await w.node.running.close();
    const gone = await ursula.putProfile('alpha', 'later', { format: 'raw', key: 'alpha/release' }).then(() => undefined, (e: unknown) => e);
    assert.ok(gone instanceof CofferApiError && gone.code === 'MODULE_UNAVAILABLE' && gone.status === 503, String(gone));
    assert.equal((await ursula.getJob(digestJob.jobId)).state, 'signed');
  });
});
