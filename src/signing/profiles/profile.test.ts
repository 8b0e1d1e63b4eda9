// parseProfile: a complete profile is read as given, defaults are filled in, and every malformed
// field is refused with INVALID_ARGUMENT before anything uses it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../../core/errors.ts';
import { parseProfile } from './profile.ts';

const FULL = {
  project: 'release', name: 'windows-cms', format: 'cms', key: 'release/authenticode', algorithm: 'RSASSA_PKCS1_V1_5_SHA_384',
  timeStampKey: 'release/tsa', checks: [{ kind: 'maxSize', maxBytes: 1024 }], approval: { threshold: 2, approvers: ['ann', 'bob', 'cy'] },
  allowDigestSubmission: false, retentionDays: 30, description: 'Windows installers',
};

function refused(value: unknown): void {
  assert.throws(() => parseProfile(value), (error: unknown) => error instanceof CofferError && error.code === 'INVALID_ARGUMENT', JSON.stringify(value).slice(0, 120));
}

describe('parseProfile', () => {
  it('reads a complete profile, and fills in the defaults of a minimal one', () => {
    const full = parseProfile(FULL);
    assert.equal(full.format, 'cms');
    assert.deepEqual(full.approval, { threshold: 2, approvers: ['ann', 'bob', 'cy'] });
    assert.equal(full.checks.length, 1);
    assert.equal(full.retentionDays, 30);
    const minimal = parseProfile({ project: 'release', name: 'raw', format: 'raw', key: 'release/signer' });
    assert.deepEqual(minimal.checks, []);
    assert.equal(minimal.allowDigestSubmission, false);
    assert.equal(minimal.retentionDays, 90);
    assert.equal(minimal.approval, undefined);
  });

  it('refuses unknown fields, unknown formats, bad keys, names, approvals, retention and checks', () => {
    refused(null);
    refused([]);
    refused({ ...FULL, extra: 1 });
    refused({ ...FULL, format: 'msi' });
    // A time-stamp key goes with the CMS-based formats only.
    refused({ ...FULL, format: 'jws' });
    refused({ ...FULL, format: 'openpgp' });
    for (const format of ['cms', 'authenticode', 'jar']) assert.equal(parseProfile({ ...FULL, format }).timeStampKey, 'release/tsa');
    refused({ ...FULL, key: '../etc/passwd' });
    refused({ ...FULL, name: '-dash' });
    refused({ ...FULL, project: undefined });
    refused({ ...FULL, algorithm: 'sha1; rm' });
    refused({ ...FULL, format: 'raw' });
    refused({ ...FULL, approval: { threshold: 4, approvers: ['ann', 'bob', 'cy'] } });
    refused({ ...FULL, approval: { threshold: 1, approvers: ['ann', 'ann'] } });
    refused({ ...FULL, approval: { threshold: 1, approvers: [] } });
    refused({ ...FULL, approval: { threshold: 1, approvers: ['ann'], extra: true } });
    refused({ ...FULL, approval: { threshold: 1.5, approvers: ['ann', 'bob'] } });
    refused({ ...FULL, retentionDays: -1 });
    refused({ ...FULL, retentionDays: 10_000 });
    refused({ ...FULL, allowDigestSubmission: 'yes' });
    refused({ ...FULL, description: 'x'.repeat(1025) });
    refused({ ...FULL, checks: [{ kind: 'nope' }] });
  });
});
