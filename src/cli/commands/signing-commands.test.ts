// The signing commands' arguments, parsed as main parses them: roles, hashes and digests, waits, job
// and stats queries, the signer connection from options or the environment, and options of another
// action refused before any request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCofferError } from '../../core/errors.ts';
import { COMMANDS } from '../command-table.ts';
import { digestSubmissionOf, hashOf, listJobsQueryOf, memberRolesOf, statsQueryOf, waitOf } from './signing-arguments.ts';
import { signedCopyName, signerFrom } from './signing-commands.ts';
import { argsOf, command, throwsCode } from '../command-test-kit.ts';




const SHA256 = 'ab'.repeat(32);

describe('signing arguments', () => {
  it('registers every signing command under the signing group', () => {
    const names = COMMANDS.filter((c) => c.name.startsWith('signing ')).map((c) => c.name);
    assert.deepEqual(names, [
      'signing whoami', 'signing project', 'signing member', 'signing profile', 'signing submit', 'signing submit-digest', 'signing job', 'signing find',
      'signing stats', 'signing approve', 'signing reject',
    ]);
  });

  it('reads member roles, each a known role', () => {
    assert.deepEqual(memberRolesOf(argsOf('signing member', ['set', 'acme', 'alice', '--roles', 'admin, submitter'])), ['admin', 'submitter']);
    throwsCode(() => memberRolesOf(argsOf('signing member', ['set', 'acme', 'alice'])), 'INVALID_ARGUMENT');
    throwsCode(() => memberRolesOf(argsOf('signing member', ['set', 'acme', 'alice', '--roles', 'admin,owner'])), 'INVALID_ARGUMENT');
  });

  it('takes SHA256 or SHA-256 and a digest of exactly that hash\'s length', () => {
    assert.equal(hashOf(argsOf('signing submit-digest', [])), 'SHA-256');
    assert.equal(hashOf(argsOf('signing submit-digest', ['--hash', 'sha384'])), 'SHA-384');
    assert.equal(hashOf(argsOf('signing submit-digest', ['--hash', 'SHA-512'])), 'SHA-512');
    throwsCode(() => hashOf(argsOf('signing submit-digest', ['--hash', 'SHA1'])), 'INVALID_ARGUMENT');
    const args = argsOf('signing submit-digest', ['acme', 'release', '--digest', SHA256.toUpperCase(), '--size', '21474836480', '--meta', 'commit=3f2a', '--file-name', 'app.tar']);
    assert.deepEqual(digestSubmissionOf(args, 'release'), {
      profile: 'release', digest: { hash: 'SHA-256', value: SHA256 }, size: 21_474_836_480, fileName: 'app.tar', metadata: { commit: '3f2a' },
    });
    throwsCode(() => digestSubmissionOf(argsOf('signing submit-digest', ['--digest', SHA256, '--hash', 'SHA384', '--size', '1']), 'p'), 'INVALID_ARGUMENT');
    throwsCode(() => digestSubmissionOf(argsOf('signing submit-digest', ['--digest', SHA256]), 'p'), 'INVALID_ARGUMENT');
    throwsCode(() => digestSubmissionOf(argsOf('signing submit-digest', ['--digest', SHA256, '--size', '1.5']), 'p'), 'INVALID_ARGUMENT');
    throwsCode(() => digestSubmissionOf(argsOf('signing submit-digest', ['--digest', SHA256, '--size', '1', '--meta', 'nokey']), 'p'), 'INVALID_ARGUMENT');
  });

  it('waits only with --wait: 600 s by default, --timeout otherwise', () => {
    assert.equal(waitOf(argsOf('signing submit', ['a', 'b', 'f'])), undefined);
    assert.equal(waitOf(argsOf('signing submit', ['a', 'b', 'f', '--wait'])), 600);
    assert.equal(waitOf(argsOf('signing submit', ['a', 'b', 'f', '--wait', '--timeout', '30'])), 30);
    throwsCode(() => waitOf(argsOf('signing submit', ['a', 'b', 'f', '--timeout', '30'])), 'INVALID_ARGUMENT');
    throwsCode(() => waitOf(argsOf('signing submit', ['a', 'b', 'f', '--wait', '--timeout', '86401'])), 'INVALID_ARGUMENT');
  });

  it('reads job list and stats queries', () => {
    assert.deepEqual(listJobsQueryOf(argsOf('signing job', ['list', 'acme', '--limit', '20', '--state', 'awaiting-approval'])), { limit: 20, state: 'awaiting-approval' });
    assert.deepEqual(listJobsQueryOf(argsOf('signing job', ['list', 'acme'])), {});
    throwsCode(() => listJobsQueryOf(argsOf('signing job', ['list', 'acme', '--state', 'done'])), 'INVALID_ARGUMENT');
    throwsCode(() => listJobsQueryOf(argsOf('signing job', ['list', 'acme', '--limit', '1001'])), 'INVALID_ARGUMENT');
    assert.deepEqual(statsQueryOf(argsOf('signing stats', ['--from', '2030-01-01', '--to', '2030-01-31', '--project', 'acme', '--outcome', 'failed', '--group-by', 'day,path'])), {
      from: '2030-01-01', to: '2030-01-31', project: 'acme', outcome: 'failed', groupBy: ['day', 'path'],
    });
    throwsCode(() => statsQueryOf(argsOf('signing stats', ['--from', '2030-1-1'])), 'INVALID_ARGUMENT');
    throwsCode(() => statsQueryOf(argsOf('signing stats', ['--group-by', 'day,colour'])), 'INVALID_ARGUMENT');
    throwsCode(() => statsQueryOf(argsOf('signing stats', ['--path', 'sideways'])), 'INVALID_ARGUMENT');
  });

  it('names a signed copy beside the input, never the input itself', () => {
    assert.equal(signedCopyName('dist/app.exe'), 'dist/app.signed.exe');
    assert.equal(signedCopyName('/tmp/lib.jar'), '/tmp/lib.signed.jar');
    assert.equal(signedCopyName('tool'), 'tool.signed');
    assert.equal(signedCopyName('.profile'), '.profile.signed');
  });

  it('connects to --signer or COFFER_SIGNER_URL, https only', () => {
    throwsCode(() => signerFrom(argsOf('signing whoami', []), {}), 'INVALID_ARGUMENT');
    throwsCode(() => signerFrom(argsOf('signing whoami', ['--signer', 'http://signer.test']), {}), 'INVALID_ARGUMENT');
    const fromEnv = signerFrom(argsOf('signing whoami', []), { COFFER_SIGNER_URL: 'https://signer.test:9443', COFFER_TOKEN: 't' });
    assert.equal(fromEnv.url, 'https://signer.test:9443');
    fromEnv.close();
    const fromOption = signerFrom(argsOf('signing whoami', ['--signer', 'https://other.test']), { COFFER_SIGNER_URL: 'https://signer.test:9443' });
    assert.equal(fromOption.url, 'https://other.test');
    fromOption.close();
  });

  it('refuses options of another action before any request', async () => {
    const run = (name: string, argv: string[]): Promise<number | undefined> => command(name).run({
      args: argsOf(name, ['--signer', 'https://127.0.0.1:1', ...argv]), json: false, client: () => assert.fail('no Coffer call expected'),
    });
    await assert.rejects(run('signing project', ['list', '--description', 'x']), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assert.rejects(run('signing member', ['list', 'acme', '--roles', 'admin']), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assert.rejects(run('signing job', ['list', 'acme', '--wait', '5']), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assert.rejects(run('signing find', ['acme', 'not-a-digest']), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
    await assert.rejects(run('signing submit', ['acme', 'release', 'app.tar', '--out', 'x.sig']), (error: unknown) => isCofferError(error, 'INVALID_ARGUMENT'));
  });
});
