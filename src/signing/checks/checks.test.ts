// Pre-sign checks: the spec parser refuses what is malformed, each built-in passes and fails as it
// should on real fixture files, the glob and bounded regexes behave, and runChecks orders and stops.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildCheck, detectFileType, globToRegExp, parseCheckSpecs, runChecks, type Check, type CheckContext, type DetectedFileType } from './index.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-checks-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

function context(path: string, overrides: Partial<CheckContext> = {}): CheckContext {
  return { path, size: 5, digests: {}, metadata: { branch: 'main' }, submitter: 'ci-bot', project: 'web', profile: 'release', ...overrides };
}

async function runOne(spec: unknown, ctx: CheckContext): Promise<{ passed: boolean; output: string }> {
  const [parsed] = parseCheckSpecs([spec]);
  assert.ok(parsed !== undefined);
  return buildCheck(parsed).run(ctx, new AbortController().signal);
}

/** Refused with INVALID_ARGUMENT, and the message names the offending field. */
function refuses(value: unknown, field: string): void {
  assert.throws(() => parseCheckSpecs(value), (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, 'INVALID_ARGUMENT');
    assert.ok((error as Error).message.startsWith(`${field}:`), (error as Error).message);
    return true;
  });
}

function pe(lfanew: number): Buffer {
  const bytes = Buffer.alloc(Math.max(0x100, lfanew + 0x20));
  bytes.write('MZ', 0, 'latin1');
  bytes.writeUInt32LE(lfanew, 0x3c);
  bytes.write('PE\0\0', lfanew, 'latin1');
  return bytes;
}

function withHead(head: Buffer | string, at = 0, length = 600): Buffer {
  const bytes = Buffer.alloc(length);
  (typeof head === 'string' ? Buffer.from(head, 'latin1') : head).copy(bytes, at);
  return bytes;
}

const FIXTURES: readonly (readonly [string, Buffer, DetectedFileType | undefined])[] = [
  ['pe', pe(0x80), 'pe'],
  ['pe with e_lfanew past the head', pe(0x2400), 'pe'],
  ['MZ without PE', withHead('MZ'), undefined],
  ['elf', withHead(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])), 'elf'],
  ['macho 64', withHead(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1])), 'macho'],
  ['macho 32 big-endian', withHead(Buffer.from([0xfe, 0xed, 0xfa, 0xce])), 'macho'],
  ['macho fat', withHead(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2])), 'macho'],
  ['java class (same magic as fat)', withHead(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34])), undefined],
  ['zip', withHead('PK\x03\x04\x14\0'), 'zip'],
  ['empty zip', withHead('PK\x05\x06'), 'zip'],
  ['msi', withHead(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])), 'msi'],
  ['pdf', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), 'pdf'],
  ['gzip', gzipSync(Buffer.from('hello')), 'gzip'],
  ['tar', withHead('ustar\x0000', 257, 1024), 'tar'],
  ['wasm', Buffer.from('\0asm\x01\0\0\0', 'latin1'), 'wasm'],
  ['deb', Buffer.from('!<arch>\ndebian-binary   1342943816  0     0     100644  4         `\n2.0\n', 'latin1'), 'deb'],
  ['rpm', withHead(Buffer.from([0xed, 0xab, 0xee, 0xdb, 3, 0])), 'rpm'],
  ['text', Buffer.from('#!/bin/sh\necho héllo\n'), 'text'],
  // A multi-byte character cut by the 4 KiB boundary is still text.
  ['text cut mid-character at 4 KiB', Buffer.from(`${'a'.repeat(4095)}é and more`), 'text'],
  ['invalid UTF-8', Buffer.from([0x68, 0x69, 0xff, 0x0a]), undefined],
  ['binary', Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04]), undefined],
  ['empty', Buffer.alloc(0), undefined],
];

describe('detectFileType', () => {
  it('recognises each type in the table by its magic bytes', async (t) => {
    const dir = tempDir(t);
    for (const [label, bytes, expected] of FIXTURES) {
      const path = join(dir, label.replaceAll(' ', '-'));
      writeFileSync(path, bytes);
      assert.equal(await detectFileType(path), expected, label);
    }
  });

  it('reads only the head: a 20 GiB sparse ELF is judged at once', async (t) => {
    const path = join(tempDir(t), 'huge.elf');
    writeFileSync(path, Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    truncateSync(path, 20 * 1024 ** 3);
    const started = performance.now();
    assert.equal(await detectFileType(path), 'elf');
    assert.ok(performance.now() - started < 1000);
  });
});

describe('built-in checks', () => {
  it('maxSize passes at the limit and fails past it', async () => {
    assert.equal((await runOne({ kind: 'maxSize', maxBytes: 5 }, context('/unused'))).passed, true);
    assert.equal((await runOne({ kind: 'maxSize', maxBytes: 4 }, context('/unused'))).passed, false);
  });

  it('fileType passes an allowed type (jar and apk allow zip), fails another, and fails closed on a missing file', async (t) => {
    const dir = tempDir(t);
    const exe = join(dir, 'app.exe');
    writeFileSync(exe, pe(0x80));
    const jar = join(dir, 'app.jar');
    writeFileSync(jar, withHead('PK\x03\x04'));
    assert.equal((await runOne({ kind: 'fileType', allowed: ['pe', 'msi'] }, context(exe))).passed, true);
    assert.equal((await runOne({ kind: 'fileType', allowed: ['elf'] }, context(exe))).passed, false);
    assert.equal((await runOne({ kind: 'fileType', allowed: ['jar'] }, context(jar))).passed, true);
    assert.equal((await runOne({ kind: 'fileType', allowed: ['apk'] }, context(jar))).passed, true);
    assert.equal((await runOne({ kind: 'fileType', allowed: ['text'] }, context(jar))).passed, false);
    const missing = await runOne({ kind: 'fileType', allowed: ['pe'] }, context(join(dir, 'gone')));
    assert.equal(missing.passed, false);
    assert.match(missing.output, /ENOENT/);
  });

  it('requiredMetadata needs every key, non-empty, and each pattern to match the whole value', async () => {
    const spec = { kind: 'requiredMetadata', keys: ['commit', 'branch'], patterns: { commit: '[0-9a-f]{40}' } };
    const commit = 'a'.repeat(40);
    assert.equal((await runOne(spec, context('/x', { metadata: { commit, branch: 'main' } }))).passed, true);
    assert.equal((await runOne(spec, context('/x', { metadata: { commit } }))).passed, false);
    assert.equal((await runOne(spec, context('/x', { metadata: { commit, branch: '' } }))).passed, false);
    assert.equal((await runOne(spec, context('/x', { metadata: { commit: `${commit}0`, branch: 'main' } }))).passed, false, 'anchored');
    assert.equal((await runOne(spec, context('/x', { metadata: { commit: `x${commit}`, branch: 'main' } }))).passed, false, 'anchored');
    const inherited = Object.create({ commit }) as Record<string, string>;
    assert.equal((await runOne({ kind: 'requiredMetadata', keys: ['commit'] }, context('/x', { metadata: inherited }))).passed, false);
  });

  it('a pathological pattern cannot hang: catastrophic backtracking fails the check in bounded time', async () => {
    const spec = { kind: 'requiredMetadata', keys: ['v'], patterns: { v: '(a+)+b' } };
    const started = performance.now();
    const result = await runOne(spec, context('/x', { metadata: { v: `${'a'.repeat(1000)}!` } }));
    assert.equal(result.passed, false);
    assert.ok(performance.now() - started < 1000);
    assert.equal((await runOne(spec, context('/x', { metadata: { v: 'aaab' } }))).passed, true);
    // Past the input bound the value is not even tested.
    assert.equal((await runOne({ kind: 'requiredMetadata', keys: ['v'], patterns: { v: '.*' } }, context('/x', { metadata: { v: 'a'.repeat(1025) } }))).passed, false);
  });

  it('allowedSubmitters admits only the listed principals', async () => {
    const spec = { kind: 'allowedSubmitters', principals: ['ci-bot', 'alice'] };
    assert.equal((await runOne(spec, context('/x'))).passed, true);
    assert.equal((await runOne(spec, context('/x', { submitter: 'mallory' }))).passed, false);
    assert.equal((await runOne(spec, context('/x', { submitter: 'CI-BOT' }))).passed, false);
  });

  it('allowedBranches matches the branch metadata (or another key) against globs', async () => {
    const spec = { kind: 'allowedBranches', patterns: ['main', 'release/*'] };
    assert.equal((await runOne(spec, context('/x'))).passed, true);
    assert.equal((await runOne(spec, context('/x', { metadata: { branch: 'release/1.2' } }))).passed, true);
    assert.equal((await runOne(spec, context('/x', { metadata: { branch: 'release/1/2' } }))).passed, false);
    assert.equal((await runOne(spec, context('/x', { metadata: { branch: 'feature/x' } }))).passed, false);
    assert.equal((await runOne(spec, context('/x', { metadata: {} }))).passed, false);
    const ref = { kind: 'allowedBranches', metadataKey: 'ref', patterns: ['refs/tags/v*'] };
    assert.equal((await runOne(ref, context('/x', { metadata: { ref: 'refs/tags/v1.0' } }))).passed, true);
    assert.equal((await runOne(ref, context('/x'))).passed, false);
  });

  it('a built-in given an aborted signal fails without evaluating', async () => {
    const [spec] = parseCheckSpecs([{ kind: 'maxSize', maxBytes: 100 }]);
    assert.ok(spec !== undefined);
    const result = await buildCheck(spec).run(context('/x'), AbortSignal.abort());
    assert.equal(result.passed, false);
  });
});

describe('globToRegExp', () => {
  const cases: readonly (readonly [string, string, boolean])[] = [
    ['main', 'main', true],
    ['main', 'mainline', false],
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/', true],
    ['release/*', 'release/1/2', false],
    ['release/**', 'release/1/2', true],
    ['release/**', 'release', true],
    ['release/**', 'releases/1', false],
    ['**/main', 'main', true],
    ['**/main', 'a/b/main', true],
    ['**/main', 'a/bmain', false],
    ['feat-?', 'feat-a', true],
    ['feat-?', 'feat-/', false],
    ['v1.0', 'v1x0', false],
    ['a+(b)[c]{2}|$^\\', 'a+(b)[c]{2}|$^\\', true],
    ['hot*fix/**/x', 'hotpatchfix/a/b/x', true],
    ['hot*fix/**/x', 'hot/fix/x', false],
  ];
  it('implements *, ? within a segment and ** across segments, everything else literal', () => {
    for (const [glob, input, expected] of cases) assert.equal(globToRegExp(glob).test(input), expected, `${glob} ~ ${input}`);
  });

  it('refuses an empty or overlong glob', () => {
    assert.throws(() => globToRegExp(''), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => globToRegExp('a'.repeat(201)), { code: 'INVALID_ARGUMENT' });
  });
});

describe('parseCheckSpecs', () => {
  it('fills defaults and keeps the order', () => {
    const specs = parseCheckSpecs([
      { kind: 'command', argv: ['/usr/bin/scan', '{path}'] },
      { kind: 'allowedBranches', name: 'branches', patterns: ['main'] },
      { kind: 'requiredMetadata', keys: ['commit'] },
    ]);
    assert.deepEqual(specs, [
      { kind: 'command', name: 'command', argv: ['/usr/bin/scan', '{path}'], timeoutMs: 300_000, env: [] },
      { kind: 'allowedBranches', name: 'branches', metadataKey: 'branch', patterns: ['main'] },
      { kind: 'requiredMetadata', name: 'requiredMetadata', keys: ['commit'], patterns: {} },
    ]);
    assert.ok(Object.isFrozen(specs[0]));
  });

  it('refuses malformed specs with INVALID_ARGUMENT naming the field', () => {
    refuses({}, 'checks');
    refuses(Array.from({ length: 33 }, (_, i) => ({ kind: 'maxSize', name: `m${String(i)}`, maxBytes: 1 })), 'checks');
    refuses([null], 'checks[0]');
    refuses([{ kind: 'nope' }], 'checks[0].kind');
    refuses([{ maxBytes: 1 }], 'checks[0].kind');
    refuses([{ kind: 'maxSize', maxBytes: 1, extra: true }], 'checks[0].extra');
    refuses([{ kind: 'maxSize', maxBytes: 1, allowed: ['pe'] }], 'checks[0].allowed');
    refuses([{ kind: 'maxSize', maxBytes: '1' }], 'checks[0].maxBytes');
    refuses([{ kind: 'maxSize', maxBytes: -1 }], 'checks[0].maxBytes');
    refuses([{ kind: 'maxSize', maxBytes: 1.5 }], 'checks[0].maxBytes');
    refuses([{ kind: 'maxSize' }], 'checks[0].maxBytes');
    refuses([{ kind: 'maxSize', name: 'has space', maxBytes: 1 }], 'checks[0].name');
    refuses([{ kind: 'maxSize', maxBytes: 1 }, { kind: 'maxSize', maxBytes: 2 }], 'checks[1].name');
    refuses([{ kind: 'fileType', allowed: 'pe' }], 'checks[0].allowed');
    refuses([{ kind: 'fileType', allowed: [] }], 'checks[0].allowed');
    refuses([{ kind: 'fileType', allowed: ['pe', 'exe'] }], 'checks[0].allowed[1]');
    refuses([{ kind: 'requiredMetadata', keys: ['a b'] }], 'checks[0].keys[0]');
    refuses([{ kind: 'requiredMetadata', keys: ['v'], patterns: { w: '.*' } }], 'checks[0].patterns.w');
    refuses([{ kind: 'requiredMetadata', keys: ['v'], patterns: { v: 7 } }], 'checks[0].patterns.v');
    refuses([{ kind: 'requiredMetadata', keys: ['v'], patterns: { v: '(unclosed' } }], 'checks[0].patterns.v');
    // Balanced only with its wrapper: compiled alone it is refused, so it cannot escape the anchors.
    refuses([{ kind: 'requiredMetadata', keys: ['v'], patterns: { v: 'a)|(b' } }], 'checks[0].patterns.v');
    refuses([{ kind: 'requiredMetadata', keys: ['v'], patterns: { v: 'a'.repeat(201) } }], 'checks[0].patterns.v');
    refuses([{ kind: 'allowedSubmitters', principals: [1] }], 'checks[0].principals[0]');
    refuses([{ kind: 'allowedBranches', patterns: ['x'.repeat(201)] }], 'checks[0].patterns[0]');
    refuses([{ kind: 'allowedBranches', metadataKey: '', patterns: ['main'] }], 'checks[0].metadataKey');
    refuses([{ kind: 'command', argv: [] }], 'checks[0].argv');
    refuses([{ kind: 'command', argv: '/bin/scan {path}' }], 'checks[0].argv');
    refuses([{ kind: 'command', argv: ['{metadata.tool}', 'x'] }], 'checks[0].argv[0]');
    refuses([{ kind: 'command', argv: ['/bin/scan', '{file}'] }], 'checks[0].argv[1]');
    refuses([{ kind: 'command', argv: ['/bin/scan', 'a\0b'] }], 'checks[0].argv[1]');
    refuses([{ kind: 'command', argv: ['/bin/scan'], timeoutMs: 0 }], 'checks[0].timeoutMs');
    refuses([{ kind: 'command', argv: ['/bin/scan'], timeoutMs: 3_600_001 }], 'checks[0].timeoutMs');
    refuses([{ kind: 'command', argv: ['/bin/scan'], env: ['PATH', 'BAD-NAME'] }], 'checks[0].env[1]');
    refuses([{ kind: 'command', argv: ['/bin/scan'], env: ['COFFER_ARTIFACT_PATH'] }], 'checks[0].env[0]');
    refuses([{ kind: 'command', argv: ['/bin/scan'], cwd: 'relative/dir' }], 'checks[0].cwd');
  });
});

describe('runChecks', () => {
  function fake(name: string, kind: string, passed: boolean, ran: string[]): Check {
    return {
      name,
      kind,
      run: (ctx) => {
        ran.push(name);
        return Promise.resolve({ name, kind, passed, output: ctx.submitter, durationMs: 0 });
      },
    };
  }

  it('runs built-ins before commands, in order, and passes when all pass (and with none)', async () => {
    const ran: string[] = [];
    const outcome = await runChecks([fake('scan', 'command', true, ran), fake('size', 'maxSize', true, ran), fake('type', 'fileType', true, ran)], context('/x'));
    assert.equal(outcome.passed, true);
    assert.deepEqual(ran, ['size', 'type', 'scan']);
    assert.deepEqual(outcome.results.map((r) => r.name), ['size', 'type', 'scan']);
    assert.deepEqual(await runChecks([], context('/x')), { passed: true, results: [] });
  });

  it('stops at the first failure and keeps its result last', async () => {
    const ran: string[] = [];
    const outcome = await runChecks([fake('scan', 'command', true, ran), fake('size', 'maxSize', false, ran), fake('type', 'fileType', true, ran)], context('/x'));
    assert.equal(outcome.passed, false);
    assert.deepEqual(ran, ['size']);
    assert.equal(outcome.results.at(-1)?.name, 'size');
  });

  it('fails closed when a check throws', async () => {
    const throwing: Check = { name: 'boom', kind: 'custom', run: () => Promise.reject(new Error('secret detail')) };
    const outcome = await runChecks([throwing], context('/x'));
    assert.equal(outcome.passed, false);
    const [result] = outcome.results;
    assert.ok(result !== undefined);
    assert.equal(result.name, 'boom');
    assert.doesNotMatch(result.output, /secret detail/);
  });
});
