// The command check against real processes: exit codes, kept output, the timeout and abort killing the
// process group, placeholders arriving as single verbatim arguments, the output bound, and the env allow-list.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCheck, OUTPUT_LIMIT_BYTES, parseCheckSpecs, runChecks, type BuildCheckOptions, type CheckContext, type CheckResult } from './index.ts';

const NODE = process.execPath;

function artifact(t: { after: (fn: () => void) => void }): CheckContext {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-command-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const path = join(dir, 'my artifact.bin');
  writeFileSync(path, 'hello');
  return {
    path,
    size: 5,
    digests: { 'SHA-256': createHash('sha256').update('hello').digest() },
    metadata: { branch: 'main', 'build-id': '42' },
    submitter: 'ci-bot',
    project: 'web',
    profile: 'release',
  };
}

function command(fields: Record<string, unknown>, options: BuildCheckOptions = {}, signal = new AbortController().signal) {
  const [spec] = parseCheckSpecs([{ kind: 'command', name: 'scan', ...fields }]);
  assert.ok(spec !== undefined);
  const check = buildCheck(spec, options);
  return (ctx: CheckContext): Promise<CheckResult> => check.run(ctx, signal);
}

/** Gone, or a zombie waiting for init to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${String(pid)}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('command check', () => {
  it('passes on exit 0 and keeps what it printed', async (t) => {
    const result = await command({ argv: ['/bin/sh', '-c', 'echo checked $COFFER_ARTIFACT_SIZE; exit 0'] })(artifact(t));
    assert.equal(result.passed, true);
    assert.equal(result.exitCode, 0);
    assert.equal(result.output, 'checked 5\n');
    assert.equal(result.name, 'scan');
    assert.equal(result.kind, 'command');
  });

  it('fails on a non-zero exit, with the exit code and stdout and stderr interleaved', async (t) => {
    const result = await command({ argv: ['/bin/sh', '-c', 'echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; exit 3'] })(artifact(t));
    assert.equal(result.passed, false);
    assert.equal(result.exitCode, 3);
    assert.equal(result.timedOut, undefined);
    assert.equal(result.output, 'one\ntwo\nthree\n');
  });

  it('kills the process group on timeout and reports timedOut', async (t) => {
    const started = performance.now();
    const result = await command({ argv: ['/bin/sh', '-c', 'sleep 5 & echo $!; wait'], timeoutMs: 200 })(artifact(t));
    assert.ok(performance.now() - started < 1500);
    assert.equal(result.passed, false);
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, undefined);
    const sleeper = Number.parseInt(result.output, 10);
    assert.ok(sleeper > 0);
    const deadline = Date.now() + 1000;
    while (alive(sleeper) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(alive(sleeper), false, 'the grandchild is gone too');
  });

  it('escalates to SIGKILL when the command ignores SIGTERM', async (t) => {
    const started = performance.now();
    const result = await command({ argv: ['/bin/sh', '-c', "trap '' TERM; echo ready; sleep 5"], timeoutMs: 200 }, { killGraceMs: 300 })(artifact(t));
    assert.ok(performance.now() - started < 1500);
    assert.equal(result.passed, false);
    assert.equal(result.timedOut, true);
    assert.match(result.output, /^ready\n/);
  });

  it('stops on abort without calling it a timeout', async (t) => {
    const controller = new AbortController();
    setTimeout(() => { controller.abort(); }, 100);
    const started = performance.now();
    const result = await command({ argv: ['/bin/sh', '-c', 'sleep 5'] }, {}, controller.signal)(artifact(t));
    assert.ok(performance.now() - started < 1500);
    assert.equal(result.passed, false);
    assert.equal(result.timedOut, undefined);
    assert.equal(result.exitCode, undefined);
  });

  it('substitutes placeholders as single verbatim arguments, whatever the metadata holds', async (t) => {
    const ctx = artifact(t);
    const evil = '$(rm -rf /); `id` && echo "quoted" | cat > x * ?';
    const result = await command({
      argv: [NODE, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', '{path}', '--branch={metadata.branch}', '{metadata.evil}', '{metadata.empty}', 'plain {"json": 1}'],
    })({ ...ctx, metadata: { ...ctx.metadata, evil, empty: '' } });
    assert.equal(result.passed, true, result.output);
    assert.deepEqual(JSON.parse(result.output), [ctx.path, '--branch=main', evil, '', 'plain {"json": 1}']);
  });

  it('fails without running the program when a placeholder names missing metadata', async (t) => {
    const ctx = artifact(t);
    const marker = join(tmpdir(), `coffer-never-${String(process.pid)}`);
    const result = await command({ argv: ['/bin/sh', '-c', `touch ${marker}`, '{metadata.absent}'] })(ctx);
    assert.equal(result.passed, false);
    assert.equal(existsSync(marker), false);
  });

  it('bounds the output and marks the truncation', async (t) => {
    const result = await command({ argv: [NODE, '-e', 'process.stdout.write("x".repeat(200000)); process.stderr.write("y".repeat(100000))'] })(artifact(t));
    assert.equal(result.passed, true);
    const [kept = '', marker = ''] = result.output.split('\n');
    assert.equal(Buffer.byteLength(kept), OUTPUT_LIMIT_BYTES);
    assert.match(marker, /truncated/);
    assert.match(marker, new RegExp(String(300_000 - OUTPUT_LIMIT_BYTES)));
  });

  it('passes only allow-listed variables from the service environment, plus the COFFER_* facts', async (t) => {
    const ctx = artifact(t);
    const environment = { SCANNER_LICENSE: 'abc', SECRET_TOKEN: 'never', PATH: '/usr/bin:/bin' };
    const result = await command(
      { argv: [NODE, '-e', 'process.stdout.write(JSON.stringify(process.env))'], env: ['SCANNER_LICENSE', 'NOT_SET'] },
      { environment },
    )(ctx);
    assert.equal(result.passed, true, result.output);
    assert.deepEqual(JSON.parse(result.output), {
      SCANNER_LICENSE: 'abc',
      COFFER_META_BRANCH: 'main',
      COFFER_META_BUILD_ID: '42',
      COFFER_ARTIFACT_PATH: ctx.path,
      COFFER_ARTIFACT_SIZE: '5',
      COFFER_ARTIFACT_SHA256: createHash('sha256').update('hello').digest('hex'),
      COFFER_SUBMITTER: 'ci-bot',
      COFFER_PROJECT: 'web',
      COFFER_PROFILE: 'release',
    });
  });

  it('takes from process.env by default, and only what is listed', async (t) => {
    process.env['CHECKS_TEST_SECRET'] = 'leak';
    process.env['CHECKS_TEST_ALLOWED'] = 'ok';
    t.after(() => {
      delete process.env['CHECKS_TEST_SECRET'];
      delete process.env['CHECKS_TEST_ALLOWED'];
    });
    const result = await command({ argv: [NODE, '-e', 'process.stdout.write(Object.keys(process.env).join(","))'], env: ['CHECKS_TEST_ALLOWED'] })(artifact(t));
    assert.equal(result.passed, true, result.output);
    const names = result.output.split(',');
    assert.ok(names.includes('CHECKS_TEST_ALLOWED'));
    for (const name of ['CHECKS_TEST_SECRET', 'PATH', 'HOME']) assert.ok(!names.includes(name), name);
  });

  it('reports a missing program or cwd as a failed result, not a throw', async (t) => {
    const ctx = artifact(t);
    const missing = await command({ argv: ['/nonexistent/coffer-scanner', '{path}'] })(ctx);
    assert.equal(missing.passed, false);
    assert.match(missing.output, /ENOENT/);
    const badCwd = await command({ argv: ['/bin/sh', '-c', 'exit 0'], cwd: '/nonexistent/dir' })(ctx);
    assert.equal(badCwd.passed, false);
  });

  it('runs in its cwd', async (t) => {
    const ctx = artifact(t);
    const result = await command({ argv: ['/bin/sh', '-c', 'pwd'], cwd: tmpdir() })(ctx);
    assert.equal(result.output.trim(), tmpdir());
  });

  it('a failing command blocks runChecks, with its output kept', async (t) => {
    const ctx = artifact(t);
    const checks = parseCheckSpecs([
      { kind: 'command', argv: ['/bin/sh', '-c', 'echo "malware found in $COFFER_ARTIFACT_PATH" >&2; exit 1'] },
      { kind: 'maxSize', maxBytes: 1024 },
    ]).map((spec) => buildCheck(spec));
    const outcome = await runChecks(checks, ctx);
    assert.equal(outcome.passed, false);
    assert.deepEqual(outcome.results.map((r) => [r.kind, r.passed]), [['maxSize', true], ['command', false]]);
    const failure = outcome.results[1];
    assert.ok(failure !== undefined);
    assert.equal(failure.output, `malware found in ${ctx.path}\n`);
    assert.equal(failure.exitCode, 1);
  });
});
