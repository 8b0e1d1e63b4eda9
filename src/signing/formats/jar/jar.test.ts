import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32, deflateRawSync } from 'node:zlib';
import { isCofferError, type ErrorCode } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import { tempDir } from '../../../pki/pki-test-kit.ts';
import { localKeySigner, type LocalKeySigner } from '../local-key-signer-test-kit.ts';
import { headerBytes, parseManifest } from './manifest.ts';
import { jarSigner, type JarOptions } from './index.ts';
import { readZipDirectory, type ZipEntry } from './zip-reader.ts';
import { type ZipRecord, centralHeader, deflatedEntry, endOfCentralDirectory, localHeader } from './zip-writer.ts';
import { certifiedKey, localTsa, type Chain } from '../certified-key-test-kit.ts';

interface ToolResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a JDK tool; resolves with its exit status and output, never rejecting on a non-zero exit. */
function tool(command: string, args: readonly string[], cwd: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`${command} could not be run`, { cause: error }));
        return;
      }
      resolve({ status: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

async function assertCode(run: () => unknown, code: ErrorCode): Promise<void> {
  await assert.rejects(async () => { await run(); }, (error: unknown) => isCofferError(error, code));
}




/** Over six months, so jarsigner has no "expires soon" warning to give. */
const JAR_CHAIN = { validityDays: 365, label: 'JAR' } as const;

async function jarCertifiedKey(spec: KeySpec): Promise<{ key: LocalKeySigner; chain: Chain }> {
  return certifiedKey(spec, 'codeSigning', JAR_CHAIN);
}

async function tsaFixture(): Promise<{ stamp: (signature: Buffer) => Promise<Buffer>; rootPem: string }> {
  const tsa = await localTsa(JAR_CHAIN);
  return { stamp: tsa.stamp, rootPem: tsa.chain.rootPem };
}

const LONG_NAME = 'com/example/a-rather-long-package-directory-name-that-forces-continuation/Résumé-ünïcödé-resource.properties';

/** Source files for a JAR: a class-like binary, text, a compressible resource and a name longer than a manifest line. */
function writeSources(dir: string): string {
  const src = join(dir, 'src');
  const files: Readonly<Record<string, Buffer>> = {
    'com/example/Hello.class': Buffer.concat([Buffer.from('cafebabe00000041', 'hex'), randomBytes(2000)]),
    'readme.txt': Buffer.from('a JAR signed by Coffer\n'),
    'res/data.bin': Buffer.from('compressible resource line\n'.repeat(8000)),
    [LONG_NAME]: Buffer.from('key=value\n'),
  };
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(dirname(join(src, name)), { recursive: true });
    writeFileSync(join(src, name), data);
  }
  return src;
}

/** `jar --create` over the sources (deflated entries with data descriptors, or stored), with an optional manifest. */
async function makeJar(dir: string, name: string, extra: readonly string[] = []): Promise<string> {
  const src = writeSources(dir);
  const made = await tool('jar', ['--create', '--file', name, ...extra, '-C', src, '.'], dir);
  assert.equal(made.status, 0, made.stderr);
  return join(dir, name);
}

/** A truststore holding `roots`, for jarsigner -strict. */
async function trustStore(dir: string, roots: readonly string[]): Promise<void> {
  for (const [index, pem] of roots.entries()) {
    writeFileSync(join(dir, `root-${index}.pem`), pem);
    const imported = await tool('keytool', ['-importcert', '-noprompt', '-keystore', 'ts.jks', '-storepass', 'changeit', '-file', `root-${index}.pem`, '-alias', `root-${index}`], dir);
    assert.equal(imported.status, 0, imported.stdout + imported.stderr);
  }
}

function jarsignerVerify(dir: string, jar: string): Promise<ToolResult> {
  return tool('jarsigner', ['-verify', '-strict', '-verbose', '-certs', '-keystore', 'ts.jks', '-storepass', 'changeit', jar], dir);
}

async function signTo(dir: string, input: string, output: string, key: LocalKeySigner, options?: JarOptions): Promise<Buffer> {
  const signed = await jarSigner.signFile(input, key, options);
  assert.equal(signed.mediaType, 'application/java-archive');
  assert.equal(signed.suffix, '');
  writeFileSync(join(dir, output), signed.bytes);
  return signed.bytes;
}

async function entriesOf(path: string): Promise<readonly ZipEntry[]> {
  const handle = await open(path, 'r');
  try {
    return (await readZipDirectory(handle)).entries;
  } finally {
    await handle.close();
  }
}

/** An entry's bytes through `unzip -p`, an independent reader. */
async function unzipEntry(dir: string, jar: string, name: string): Promise<string> {
  const result = await tool('unzip', ['-p', jar, name], dir);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

const java = await tool('java', ['-version'], '/');
const JAVA_VERSION = java.stderr.split('\n')[0] ?? '';


// Each case waits mostly on JVM start-up (about a second per jar, keytool or jarsigner run): run side by side.
describe(`jarsigner -verify -strict (${JAVA_VERSION}) accepts the JARs jarSigner writes`, { concurrency: true }, () => {
  for (const [spec, block, hashName] of [['RSA_2048', 'RSA', 'SHA-256'], ['EC_P256', 'EC', 'SHA-256'], ['EC_P384', 'EC', 'SHA-384']] as const) {
    it(`${spec}: the manifest, .SF and block come first and every entry is signed${spec === 'EC_P256' ? '; a tampered entry fails' : ''}`, async (t) => {
      const dir = tempDir(t);
      const { key, chain } = await jarCertifiedKey(spec);
      assert.deepEqual(jarSigner.hashPlan(key), { hash: hashName });
      await trustStore(dir, [chain.rootPem]);
      const jar = await makeJar(dir, 'app.jar');
      assert.ok((await entriesOf(jar)).some((entry) => entry.method === 8 && (entry.flags & 0x0008) !== 0), 'jar writes data descriptors');
      await signTo(dir, jar, 'signed.jar', key);
      assert.deepEqual(key.calls.map((call) => call.input), ['message', 'message'], 'the CSR, then the signed attributes over the .SF digest');

      const names = (await entriesOf(join(dir, 'signed.jar'))).map((entry) => entry.name);
      assert.deepEqual(names.slice(0, 3), ['META-INF/MANIFEST.MF', 'META-INF/COFFER.SF', `META-INF/COFFER.${block}`]);
      assert.deepEqual(new Set(names.slice(3)), new Set((await entriesOf(jar)).map((entry) => entry.name).filter((name) => name !== 'META-INF/MANIFEST.MF')));

      const tested = await tool('unzip', ['-tq', 'signed.jar'], dir);
      assert.equal(tested.status, 0, tested.stdout + tested.stderr);
      const verified = await jarsignerVerify(dir, 'signed.jar');
      t.diagnostic(verified.stdout);
      assert.equal(verified.status, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /jar verified\./);
      for (const name of ['com/example/Hello.class', 'readme.txt', 'res/data.bin']) assert.match(verified.stdout, new RegExp(`^smk .* ${name.replace(/[.]/gu, '\\.')}$`, 'mu'), name);
      assert.match(verified.stdout, /Signed by "O=Coffer, CN=Coffer JAR codeSigning test"/);

      // The manifest keeps jar's main section, wraps the long name at 72 bytes, and carries SHA-256 digests.
      const manifest = await unzipEntry(dir, 'signed.jar', 'META-INF/MANIFEST.MF');
      assert.match(manifest, /^Manifest-Version: 1\.0\r\nCreated-By: /u);
      for (const line of manifest.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 72, line);
      const parsed = parseManifest(Buffer.from(manifest));
      const readme = parsed.sections.find((section) => section.name === 'readme.txt');
      assert.deepEqual(readme?.attributes, [{ name: 'SHA-256-Digest', value: createHash('sha256').update('a JAR signed by Coffer\n').digest('base64') }]);
      assert.ok(parsed.sections.some((section) => section.name === LONG_NAME));
      const sf = await unzipEntry(dir, 'signed.jar', 'META-INF/COFFER.SF');
      assert.match(sf, /^Signature-Version: 1\.0\r\n/u);
      assert.match(sf, new RegExp(`SHA-256-Digest-Manifest: ${createHash('sha256').update(manifest).digest('base64').replace(/[+]/gu, '\\+')}\r\n`, 'u'));

      // An entry replaced after signing (the manifest and signature kept) is reported; once is enough, the key type does not matter.
      if (spec !== 'EC_P256') return;
      const changed = join(dir, 'changed');
      mkdirSync(changed);
      writeFileSync(join(changed, 'readme.txt'), 'a JAR changed after signing\n');
      writeFileSync(join(dir, 'tampered.jar'), readFileSync(join(dir, 'signed.jar')));
      const updated = await tool('jar', ['--update', '--file', 'tampered.jar', '-C', changed, 'readme.txt'], dir);
      assert.equal(updated.status, 0, updated.stderr);
      const refused = await jarsignerVerify(dir, 'tampered.jar');
      t.diagnostic(refused.stdout + refused.stderr);
      assert.notEqual(refused.status, 0);
      assert.doesNotMatch(refused.stdout, /jar verified\./);
      assert.match(refused.stdout + refused.stderr, /SecurityException: SHA-256 digest error for readme\.txt/);
    });
  }

  it('re-signing replaces an existing signature, keeps the main section and other per-entry attributes, and verifies (stored entries)', async (t) => {
    const dir = tempDir(t);
    const first = await jarCertifiedKey('RSA_2048');
    const second = await jarCertifiedKey('EC_P256');
    await trustStore(dir, [first.chain.rootPem, second.chain.rootPem]);
    const manifest = ['Manifest-Version: 1.0', 'Main-Class: com.example.Hello', 'X-Very-Long-Main-Attribute: ' + 'v'.repeat(100), '', 'Name: com/example/Hello.class', 'X-Custom: kept', 'SHA1-Digest: stale=', '', 'Name: gone.txt', 'SHA-256-Digest: stale=', '', ''].join('\n');
    // jar rewrites it (CRLF, the long header continued); the signer then keeps that main section byte for byte.
    writeFileSync(join(dir, 'manifest.txt'), manifest);
    const jar = await makeJar(dir, 'app.jar', ['--no-compress', '--manifest', 'manifest.txt']);
    assert.ok((await entriesOf(jar)).every((entry) => entry.method === 0));
    await signTo(dir, jar, 'once.jar', first.key);
    await signTo(dir, join(dir, 'once.jar'), 'twice.jar', second.key, { metadata: { jarAlias: 'second' } });

    const names = (await entriesOf(join(dir, 'twice.jar'))).map((entry) => entry.name);
    assert.deepEqual(names.filter((name) => name.startsWith('META-INF/') && !name.endsWith('/')), ['META-INF/MANIFEST.MF', 'META-INF/SECOND.SF', 'META-INF/SECOND.EC']);
    const verified = await jarsignerVerify(dir, 'twice.jar');
    t.diagnostic(verified.stdout);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /jar verified\./);

    const originalMain = (await unzipEntry(dir, 'app.jar', 'META-INF/MANIFEST.MF')).split(/\r?\n\r?\n/u)[0] ?? '';
    const signed = await unzipEntry(dir, 'twice.jar', 'META-INF/MANIFEST.MF');
    assert.ok(signed.startsWith(originalMain), 'the main section is kept byte for byte');
    const sections = parseManifest(Buffer.from(signed)).sections;
    const hello = sections.find((section) => section.name === 'com/example/Hello.class');
    assert.deepEqual(hello?.attributes.map((attribute) => attribute.name), ['X-Custom', 'SHA-256-Digest']);
    assert.equal(sections.find((section) => section.name === 'gone.txt'), undefined, 'a section left with no attribute is dropped');
  });

  it('a timeStamp option adds an RFC 3161 token over the signature that jarsigner reports', async (t) => {
    const dir = tempDir(t);
    const { key, chain } = await jarCertifiedKey('EC_P256');
    const tsa = await tsaFixture();
    await trustStore(dir, [chain.rootPem, tsa.rootPem]);
    const jar = await makeJar(dir, 'app.jar');
    await signTo(dir, jar, 'signed.jar', key, { timeStamp: tsa.stamp });
    const verified = await jarsignerVerify(dir, 'signed.jar');
    t.diagnostic(verified.stdout);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /jar verified\./);
    assert.match(verified.stdout, /Timestamped by "O=Coffer, CN=Coffer JAR timeStamping test"/);
    await assertCode(() => jarSigner.signFile(jar, key, { timeStamp: (signature) => tsa.stamp(Buffer.concat([signature, Buffer.from([0])])) }), 'INVALID_ARGUMENT');
  });
});

describe('jarSigner refuses what it cannot sign', () => {
  it('sign() is refused (embedded format), and keys, certificates and aliases are checked at hashPlan', async () => {
    const { key } = await jarCertifiedKey('EC_P256');
    assert.equal(jarSigner.output, 'embedded');
    await assertCode(() => jarSigner.sign(), 'INVALID_ARGUMENT');
    await assertCode(() => jarSigner.hashPlan({ ...key, certificates: [] }), 'INVALID_ARGUMENT');
    await assertCode(() => jarSigner.hashPlan(key, { metadata: { jarAlias: 'TOO_LONG_ALIAS' } }), 'INVALID_ARGUMENT');
    await assertCode(() => jarSigner.hashPlan(key, { metadata: { jarAlias: 'BAD.NAME' } }), 'INVALID_ARGUMENT');
    await assertCode(() => jarSigner.hashPlan(localKeySigner('ED25519', key.certificates)), 'INCOMPATIBLE_ALGORITHM');
    await assertCode(() => jarSigner.hashPlan(localKeySigner('RSA_2048', key.certificates), { algorithm: 'RSASSA_PSS_SHA_256' }), 'INCOMPATIBLE_ALGORITHM');
    assert.deepEqual(jarSigner.hashPlan(key, { metadata: { jarAlias: 'rel-1_a' } }), { hash: 'SHA-256' });
  });
});

/** A stored entry record over `data`. */
function storedRecord(name: string, data: Buffer): ZipRecord {
  return {
    nameBytes: Buffer.from(name), versionMadeBy: 20, versionNeeded: 10, flags: 0x0800, method: 0, dosTime: 0, dosDate: 0x21,
    crc32: crc32(data), compressedSize: data.length, uncompressedSize: data.length, internalAttributes: 0, externalAttributes: 0,
    localExtra: Buffer.alloc(0), centralExtra: Buffer.alloc(0), comment: Buffer.alloc(0),
  };
}

/** A ZIP from records and their stored bytes; `central` may alter a record as only the directory describes it. */
function zipOf(files: readonly { record: ZipRecord; bytes: Buffer; central?: Partial<ZipRecord> }[]): Buffer {
  const parts: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    directory.push(centralHeader({ ...file.record, ...file.central }, offset));
    const local = localHeader(file.record);
    parts.push(local, file.bytes);
    offset += local.length + file.bytes.length;
  }
  const central = Buffer.concat(directory);
  return Buffer.concat([...parts, central, endOfCentralDirectory(files.length, central.length, offset, Buffer.alloc(0))]);
}

function stored(name: string, text: string): { record: ZipRecord; bytes: Buffer } {
  const bytes = Buffer.from(text);
  return { record: storedRecord(name, bytes), bytes };
}

function deflated(name: string, data: Buffer): { record: ZipRecord; bytes: Buffer } {
  const { record, compressed } = deflatedEntry(name, data, new Date());
  return { record, bytes: compressed };
}

describe('hostile ZIP input is refused with INVALID_ARGUMENT before the key signs', () => {
  const good = zipOf([stored('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\n\r\n'), stored('a.txt', 'hello\n')]);
  const bomb = deflateRawSync(Buffer.alloc(10_000_000));
  const cases: Readonly<Record<string, Buffer>> = {
    'empty file': Buffer.alloc(0),
    'not a ZIP': randomBytes(4096),
    'truncated': good.subarray(0, good.length - 30),
    'cut in the middle': Buffer.concat([good.subarray(0, 20), good.subarray(good.length - 22)]),
    'directory offset past the file': (() => { const z = Buffer.from(good); z.writeUInt32LE(0x7fffffff, z.length - 6); return z; })(),
    'absurd entry count': (() => { const z = Buffer.from(good); z.writeUInt16LE(60_000, z.length - 12); z.writeUInt16LE(60_000, z.length - 14); return z; })(),
    'ZIP64 marker': (() => { const z = Buffer.from(good); z.writeUInt16LE(0xffff, z.length - 12); z.writeUInt16LE(0xffff, z.length - 14); return z; })(),
    'duplicate names': zipOf([stored('a.txt', 'one'), stored('a.txt', 'two')]),
    'parent segment': zipOf([stored('../evil.txt', 'x')]),
    'inner parent segment': zipOf([stored('a/../../evil.txt', 'x')]),
    'absolute path': zipOf([stored('/etc/passwd', 'x')]),
    'drive letter': zipOf([stored('C:/evil.txt', 'x')]),
    'backslash': zipOf([stored('a\\..\\evil.txt', 'x')]),
    'newline in a name': zipOf([stored('a\nSHA-256-Digest: x', 'x')]),
    'unsupported method': zipOf([{ ...stored('a.txt', 'x'), central: { method: 12 as 0 } }]),
    'encrypted entry': zipOf([{ ...stored('a.txt', 'x'), central: { flags: 0x0801 } }]),
    'deflate bomb (declared small)': zipOf([{ record: { ...deflated('a.bin', Buffer.alloc(0)).record, compressedSize: bomb.length, uncompressedSize: 1000 }, bytes: bomb }]),
    'size past the data': zipOf([{ ...stored('a.txt', 'hello'), central: { compressedSize: 5000, uncompressedSize: 5000 } }]),
    'CRC-32 mismatch': zipOf([{ ...stored('a.txt', 'hello'), central: { crc32: 1 } }]),
    'local name differs': zipOf([{ ...stored('a.txt', 'hello'), central: { nameBytes: Buffer.from('b.txt') } }]),
    'corrupt deflate data': zipOf([{ record: { ...deflated('a.bin', Buffer.alloc(100)).record, compressedSize: 4, uncompressedSize: 100 }, bytes: Buffer.from([0xff, 0xff, 0xff, 0xff]) }]),
    'directory holding data': zipOf([stored('dir/', 'hidden')]),
    'manifest without a final line end': zipOf([stored('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0')]),
    'manifest section without Name': zipOf([stored('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\n\r\nX-Other: 1\r\n\r\n')]),
    'two manifests in different cases': zipOf([stored('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\n\r\n'), stored('meta-inf/manifest.mf', 'Manifest-Version: 1.0\r\n\r\n')]),
  };
  // Overlapping entries: the second central record points into the first one's data.
  const overlapping = (() => {
    const one = stored('a.txt', 'x'.repeat(64));
    const local = localHeader(one.record);
    const second = storedRecord('b.txt', Buffer.alloc(0));
    const directory = Buffer.concat([centralHeader(one.record, 0), centralHeader(second, 10)]);
    const data = Buffer.concat([local, one.bytes]);
    return Buffer.concat([data, directory, endOfCentralDirectory(2, directory.length, data.length, Buffer.alloc(0))]);
  })();

  it('a well-formed archive of the same kind signs (the cases below differ from it by one defect)', async (t) => {
    const dir = tempDir(t);
    const { key } = await jarCertifiedKey('EC_P256');
    writeFileSync(join(dir, 'good.jar'), good);
    assert.ok((await jarSigner.signFile(join(dir, 'good.jar'), key)).bytes.length > good.length);
  });

  for (const [name, bytes] of [...Object.entries(cases), ['overlapping entries', overlapping] as const]) {
    it(name, async (t) => {
      const dir = tempDir(t);
      const { key } = await jarCertifiedKey('EC_P256');
      writeFileSync(join(dir, 'hostile.jar'), bytes);
      await assertCode(() => jarSigner.signFile(join(dir, 'hostile.jar'), key), 'INVALID_ARGUMENT');
      assert.equal(key.calls.length, 1, 'only the CSR was signed');
    });
  }
});

describe('manifest lines', () => {
  it('wraps at 72 bytes with one-space continuations, never inside a UTF-8 character, and reads back', () => {
    for (const value of ['x'.repeat(66), 'x'.repeat(67), 'é'.repeat(200), `${'a'.repeat(65)}€€€${'b'.repeat(200)}`]) {
      const bytes = headerBytes('Name', value);
      const lines = bytes.toString('utf8').split('\r\n');
      assert.equal(lines.pop(), '');
      for (const [index, line] of lines.entries()) {
        assert.ok(Buffer.byteLength(line) <= 72, line);
        assert.equal(line.startsWith(' '), index > 0);
        assert.ok(!line.includes('\ufffd'), 'no character is split');
      }
      assert.ok(Buffer.byteLength(lines[0] ?? '') >= 70, 'the first line is filled');
      const parsed = parseManifest(Buffer.concat([Buffer.from('Manifest-Version: 1.0\r\n\r\n'), bytes, Buffer.from('X-A: b\r\n\r\n')]));
      assert.deepEqual(parsed.sections, [{ name: value, attributes: [{ name: 'X-A', value: 'b' }] }]);
    }
    assert.equal(headerBytes('Name', 'x'.repeat(66)).length, 72 + 2, 'exactly 72 bytes fit on the first line');
  });
});
