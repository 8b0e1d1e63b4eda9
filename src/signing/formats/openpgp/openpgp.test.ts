// The openpgp format checked with gpg: each key's certificate imports with gpg's own fingerprint,
// detached and clear-signed signatures verify and fail when tampered, 1 GiB signs in flat memory,
// and refusals carry their codes.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { ScratchDir } from '../../../core/algorithms/openssl-test-kit.ts';
import { isCofferError } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import { hashArtifact } from '../../artifact-hash.ts';
import type { FormatOptions, KeySigner } from '../format-signer.ts';
import { localKeySigner, type LocalKeySigner } from '../local-key-signer-test-kit.ts';
import { crc24 } from './armor.ts';
import { GpgHome } from './gpg-test-kit.ts';
import { mpi } from './packet-encoding.ts';
import { openpgpClearSign, openpgpPublicKey, openpgpSigner } from './index.ts';

const scratch = new ScratchDir();
after(() => { scratch.remove(); });

const DAY_MS = 24 * 60 * 60 * 1000;
const USER_ID = 'Coffer Test <release@example.org>';

/** An artifact a little over one hash-read chunk, so the streamed hashing crosses a boundary. */
const artifact = randomBytes(4 * 1024 * 1024 + 4097);
const artifactPath = scratch.write(artifact, 'artifact.bin');
const tampered = Buffer.from(artifact);
tampered[tampered.length >> 1] = (tampered[tampered.length >> 1] ?? 0) ^ 0x01;
const tamperedPath = scratch.write(tampered, 'tampered.bin');

type DatedSigner = LocalKeySigner & { readonly createdAt: Date };

/** A signer whose key version was made a day ago: OpenPGP dates the key, and the fingerprint depends on it. */
function datedSigner(spec: KeySpec): DatedSigner {
  return { ...localKeySigner(spec), createdAt: new Date(Date.now() - DAY_MS) };
}

function rejectsWith(code: string): (error: unknown) => boolean {
  return (error: unknown) => isCofferError(error) && error.code === code;
}

/** A gpg home holding the signer's certificate, checked to be imported under our fingerprint. */
async function homeWithKey(signer: KeySigner): Promise<{ home: GpgHome; fingerprint: string; keyId: string }> {
  const certificate = await openpgpPublicKey(signer, USER_ID);
  const home = new GpgHome(scratch.path);
  const imported = home.run(['--import'], Buffer.from(certificate.armored));
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.status, new RegExp(`IMPORT_OK \\d+ ${certificate.fingerprint}`));
  const listed = home.listKeys();
  assert.deepEqual(listed.fingerprints, [certificate.fingerprint]);
  // gpg read the self-signature's key flags: certify and sign (the primary key's and the key's usable ones).
  assert.deepEqual(listed.capabilities, ['scSC']);
  return { home, fingerprint: certificate.fingerprint, keyId: certificate.keyId };
}

async function signDetached(signer: KeySigner, path: string, options: FormatOptions): Promise<{ sigPath: string; algorithm: string }> {
  const plan = openpgpSigner.hashPlan(signer, options);
  assert.equal(plan.prefix, undefined);
  assert.ok(plan.suffix !== undefined && plan.suffix[0] === 4, 'the suffix is the v4 trailer');
  const output = await openpgpSigner.sign(await hashArtifact(plan, path), signer, options);
  assert.equal(output.suffix, '.asc');
  assert.equal(output.mediaType, 'application/pgp-signature');
  const text = output.bytes.toString('ascii');
  assert.match(text, /^-----BEGIN PGP SIGNATURE-----\n\n[A-Za-z0-9+/=\n]+\n=[A-Za-z0-9+/]{4}\n-----END PGP SIGNATURE-----\n$/);
  return { sigPath: scratch.write(output.bytes, 'file.asc'), algorithm: output.algorithm };
}

interface GpgCase {
  readonly spec: KeySpec;
  readonly options?: FormatOptions;
  readonly algorithm: string;
  /** OpenPGP public-key and hash algorithm IDs, as gpg's VALIDSIG reports them. */
  readonly pubkeyAlgo: number;
  readonly hashAlgo: number;
  readonly input: 'digest' | 'message';
}

const GPG_CASES: readonly GpgCase[] = [
  { spec: 'RSA_2048', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', pubkeyAlgo: 1, hashAlgo: 8, input: 'digest' },
  { spec: 'RSA_2048', options: { algorithm: 'RSASSA_PKCS1_V1_5_SHA_512' }, algorithm: 'RSASSA_PKCS1_V1_5_SHA_512', pubkeyAlgo: 1, hashAlgo: 10, input: 'digest' },
  { spec: 'RSA_3072', algorithm: 'RSASSA_PKCS1_V1_5_SHA_384', pubkeyAlgo: 1, hashAlgo: 9, input: 'digest' },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', pubkeyAlgo: 19, hashAlgo: 8, input: 'digest' },
  { spec: 'EC_P384', algorithm: 'ECDSA_SHA_384', pubkeyAlgo: 19, hashAlgo: 9, input: 'digest' },
  { spec: 'EC_P521', algorithm: 'ECDSA_SHA_512', pubkeyAlgo: 19, hashAlgo: 10, input: 'digest' },
  { spec: 'EC_SECP256K1', algorithm: 'ECDSA_SHA_256', pubkeyAlgo: 19, hashAlgo: 8, input: 'digest' },
  { spec: 'ED25519', algorithm: 'ED25519', pubkeyAlgo: 22, hashAlgo: 10, input: 'message' },
];

describe('openpgpSigner with gpg --verify', () => {
  for (const c of GPG_CASES) {
    it(`${c.spec} ${c.algorithm}: gpg imports the key, verifies the file and rejects a tampered one`, async () => {
      const signer = datedSigner(c.spec);
      const { home, fingerprint, keyId } = await homeWithKey(signer);
      try {
        const signingTime = new Date(Date.now() - 1500);
        const { sigPath, algorithm } = await signDetached(signer, artifactPath, { ...c.options, signingTime });
        assert.equal(algorithm, c.algorithm);
        // One signature for the self-certification, one for the file; the module never saw the file.
        assert.deepEqual(signer.calls, [{ algorithm: c.algorithm === 'RSASSA_PKCS1_V1_5_SHA_512' ? 'RSASSA_PKCS1_V1_5_SHA_256' : c.algorithm, input: c.input }, { algorithm: c.algorithm, input: c.input }]);
        const good = home.run(['--verify', sigPath, artifactPath]);
        assert.equal(good.code, 0, good.stderr);
        assert.match(good.stderr, /Good signature from "Coffer Test <release@example.org>"/);
        assert.match(good.status, new RegExp(`GOODSIG ${keyId} `));
        // VALIDSIG fpr date timestamp expire version reserved pubkey-algo hash-algo class primary-fpr
        const validsig = /VALIDSIG (\S+) \S+ (\d+) \d+ (\d+) \d+ (\d+) (\d+) (\S+) (\S+)/.exec(good.status);
        assert.ok(validsig !== null, good.status);
        assert.deepEqual(validsig.slice(1), [fingerprint, String(Math.floor(signingTime.getTime() / 1000)), '4', String(c.pubkeyAlgo), String(c.hashAlgo), '00', fingerprint]);
        const bad = home.run(['--verify', sigPath, tamperedPath]);
        assert.equal(bad.code, 1, bad.stderr);
        assert.match(bad.stderr, /BAD signature/);
        assert.match(bad.status, new RegExp(`BADSIG ${keyId} `));
      } finally {
        home.remove();
      }
    });
  }

  it('a certificate made with options.createdAt equals the one from the signer\'s createdAt; another second is another key', async () => {
    const dated = datedSigner('EC_P256');
    const { createdAt, ...undated } = dated;
    const fromSigner = await openpgpPublicKey(dated, USER_ID);
    const fromOption = await openpgpPublicKey(undated, USER_ID, { createdAt });
    assert.equal(fromOption.fingerprint, fromSigner.fingerprint);
    assert.equal(fromOption.keyId, fromSigner.fingerprint.slice(-16));
    // A second later is another key for OpenPGP: the fingerprint moves with the creation time.
    const later = await openpgpPublicKey(undated, USER_ID, { createdAt: new Date(createdAt.getTime() + 1000) });
    assert.notEqual(later.fingerprint, fromSigner.fingerprint);
  });
});

describe('openpgpClearSign with gpg --verify', () => {
  const manifest = Buffer.from([
    'coffer 1.4.2 release manifest',
    '-----BEGIN PGP SIGNATURE----- (a line that must be dash-escaped)',
    '- already dashed',
    'trailing blanks \t ',
    '',
    'sha256  0f3c…  coffer-linux-amd64.tar.gz',
    'crlf line\r',
    'last line',
    '',
  ].join('\n'), 'utf8');

  for (const spec of ['RSA_2048', 'EC_P256', 'ED25519'] as const) {
    it(`${spec}: gpg verifies the clear-signed text and rejects an edited one`, async () => {
      const signer = datedSigner(spec);
      const { home, keyId } = await homeWithKey(signer);
      try {
        const output = await openpgpClearSign(manifest, signer);
        assert.equal(output.suffix, '.asc');
        const text = output.bytes.toString('utf8');
        assert.match(text, new RegExp(`^-----BEGIN PGP SIGNED MESSAGE-----\nHash: ${spec === 'ED25519' ? 'SHA512' : 'SHA256'}\n\ncoffer 1.4.2`));
        assert.match(text, /\n- -----BEGIN PGP SIGNATURE----- \(a line/);
        assert.match(text, /\n- - already dashed\n/);
        const good = home.run(['--verify', scratch.write(output.bytes, 'manifest.asc')]);
        assert.equal(good.code, 0, good.stderr);
        assert.match(good.status, new RegExp(`GOODSIG ${keyId} `));
        // The signature is over canonical text (type 0x01): gpg's own recovery of the text matches ours.
        const recovered = home.run(['--output', '-', '--status-fd', '2', '--decrypt', scratch.write(output.bytes, 'manifest.asc')]);
        assert.equal(recovered.code, 0, recovered.stderr);
        assert.equal(recovered.status.replace(/[ \t\r]+\n/g, '\n').trimEnd(), manifest.toString('utf8').replace(/[ \t\r]+\n/g, '\n').trimEnd());
        // Trailing blanks are not signed: gpg still verifies with more of them.
        const blanks = home.run(['--verify', scratch.write(Buffer.from(text.replace('last line\n', 'last line  \n')), 'blanks.asc')]);
        assert.equal(blanks.code, 0, blanks.stderr);
        const edited = home.run(['--verify', scratch.write(Buffer.from(text.replace('coffer-linux-amd64', 'coffer-linux-arm64')), 'edited.asc')]);
        assert.equal(edited.code, 1, edited.stderr);
        assert.match(edited.stderr, /BAD signature/);
      } finally {
        home.remove();
      }
    });
  }

  it('empty text and text without a final newline verify too', async () => {
    const signer = datedSigner('EC_P256');
    const { home } = await homeWithKey(signer);
    try {
      for (const text of ['', 'one line, no newline', 'two\nlines']) {
        const output = await openpgpClearSign(Buffer.from(text), signer, { signingTime: new Date() });
        const result = home.run(['--verify', scratch.write(output.bytes, 'text.asc')]);
        assert.equal(result.code, 0, `${JSON.stringify(text)}: ${result.stderr}`);
      }
    } finally {
      home.remove();
    }
  });
});

describe('openpgpSigner over 1 GiB', () => {
  // Writing the file takes about 4 s and hashing it 3 s here; gpg re-hashing it would double the
  // test's time, and the streamed digest is already checked by gpg on the multi-chunk artifact above.
  it('hashes and signs a 1 GiB file with RSS growth under 64 MiB', { timeout: 30_000 }, async () => {
    const GIB = 1024 * 1024 * 1024;
    const chunk = randomBytes(4 * 1024 * 1024);
    const bigPath = scratch.output('big.bin');
    const file = await open(bigPath, 'w');
    try {
      for (let written = 0; written < GIB; written += chunk.length) await file.write(chunk);
    } finally {
      await file.close();
    }
    try {
      const signer = datedSigner('EC_P256');
      const options = { signingTime: new Date() };
      const before = process.memoryUsage().rss;
      const plan = openpgpSigner.hashPlan(signer, options);
      const digest = await hashArtifact(plan, bigPath);
      const output = await openpgpSigner.sign(digest, signer, options);
      const growth = process.memoryUsage().rss - before;
      assert.equal(digest.size, GIB);
      assert.match(output.bytes.toString('ascii'), /^-----BEGIN PGP SIGNATURE-----\n/);
      assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${String(growth)} bytes`);
    } finally {
      await rm(bigPath, { force: true });
    }
  });
});

describe('openpgp encoding known answers', () => {
  it('CRC-24 (RFC 4880 §6.1): the initial value for no data, 0x21CF02 for "123456789"', () => {
    assert.equal(crc24(Buffer.alloc(0)), 0xb704ce);
    assert.equal(crc24(Buffer.from('123456789')), 0x21cf02);
  });

  it('MPIs (RFC 4880 §3.2): 1 is 00 01 01, 511 is 00 09 01 FF, leading zero octets dropped', () => {
    assert.deepEqual(mpi(Buffer.from([1])), Buffer.from([0, 1, 1]));
    assert.deepEqual(mpi(Buffer.from([0, 0, 1, 0xff])), Buffer.from([0, 9, 1, 0xff]));
    assert.deepEqual(mpi(Buffer.from([0, 0])), Buffer.from([0, 0]));
  });
});

describe('openpgpSigner plans and refusals', () => {
  const time = new Date();

  it('the hash plan is the same for the same options and moves with the signing time', () => {
    const signer = datedSigner('EC_P384');
    const plan = openpgpSigner.hashPlan(signer, { signingTime: time });
    assert.equal(plan.hash, 'SHA-384');
    assert.deepEqual(openpgpSigner.hashPlan(signer, { signingTime: new Date(time.getTime()) }), plan);
    assert.notDeepEqual(openpgpSigner.hashPlan(signer, { signingTime: new Date(time.getTime() + 1000) }), plan);
    // The trailer ends with 0x04 0xFF and the four-octet length of what precedes them (RFC 4880 §5.2.4).
    const suffix = plan.suffix ?? Buffer.alloc(0);
    assert.deepEqual(suffix.subarray(-6, -4), Buffer.from([0x04, 0xff]));
    assert.equal(suffix.readUInt32BE(suffix.length - 4), suffix.length - 6);
  });

  it('keys OpenPGP v4 cannot carry, and RSA-PSS, are INCOMPATIBLE_ALGORITHM; symmetric keys KEY_USAGE_NOT_ALLOWED', () => {
    assert.throws(() => openpgpSigner.hashPlan(datedSigner('ML_DSA_65'), { signingTime: time }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.throws(() => openpgpSigner.hashPlan(datedSigner('RSA_2048'), { signingTime: time, algorithm: 'RSASSA_PSS_SHA_256' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.throws(() => openpgpSigner.hashPlan(datedSigner('EC_P256'), { signingTime: time, algorithm: 'ECDSA_SHA_384' }), rejectsWith('INCOMPATIBLE_ALGORITHM'));
    assert.throws(() => openpgpSigner.hashPlan(datedSigner('EC_P256'), { signingTime: time, algorithm: 'NO_SUCH_ALGORITHM' }), rejectsWith('UNSUPPORTED_ALGORITHM'));
    const aes = { ...datedSigner('EC_P256'), spec: 'AES_256' as const };
    assert.throws(() => openpgpSigner.hashPlan(aes, { signingTime: time }), rejectsWith('KEY_USAGE_NOT_ALLOWED'));
  });

  it('without the key\'s creation time, or the signing time, or with a signing time before the key, INVALID_ARGUMENT', async () => {
    const signer = datedSigner('EC_P256');
    const { createdAt, ...undated } = signer;
    assert.throws(() => openpgpSigner.hashPlan(undated, { signingTime: time }), rejectsWith('INVALID_ARGUMENT'));
    assert.throws(() => openpgpSigner.hashPlan(signer), rejectsWith('INVALID_ARGUMENT'));
    assert.throws(() => openpgpSigner.hashPlan(signer, { signingTime: new Date(createdAt.getTime() - 1000) }), rejectsWith('INVALID_ARGUMENT'));
    assert.throws(() => openpgpSigner.hashPlan(signer, { signingTime: new Date(Number.NaN) }), rejectsWith('INVALID_ARGUMENT'));
    await assert.rejects(openpgpPublicKey(undated, USER_ID), rejectsWith('INVALID_ARGUMENT'));
    await assert.rejects(openpgpPublicKey(signer, USER_ID, { createdAt: new Date(createdAt.getTime() + 5000) }), rejectsWith('INVALID_ARGUMENT'));
    await assert.rejects(openpgpPublicKey(signer, 'two\nlines'), rejectsWith('INVALID_ARGUMENT'));
    await assert.rejects(openpgpPublicKey(signer, ''), rejectsWith('INVALID_ARGUMENT'));
    await assert.rejects(openpgpClearSign(Buffer.from('text'), undated), rejectsWith('INVALID_ARGUMENT'));
    assert.deepEqual(signer.calls, []);
    // The same key with both times does sign: the refusals above are about the times.
    assert.equal(openpgpSigner.hashPlan(signer, { signingTime: time }).hash, 'SHA-256');
  });

  it('a digest of the wrong length or from another hash is INVALID_DIGEST, before the module is asked', async () => {
    const signer = datedSigner('EC_P256');
    const options = { signingTime: time };
    const digest = createHash('sha256').update(artifact).digest();
    await assert.rejects(openpgpSigner.sign({ hash: 'SHA-256', digest: digest.subarray(1), size: 1 }, signer, options), rejectsWith('INVALID_DIGEST'));
    await assert.rejects(openpgpSigner.sign({ hash: 'SHA-512', digest: randomBytes(64), size: 1 }, signer, options), rejectsWith('INVALID_DIGEST'));
    assert.deepEqual(signer.calls, []);
  });

  it('clear-signed text over the limit is INPUT_TOO_LARGE', async () => {
    await assert.rejects(openpgpClearSign(Buffer.alloc(16 * 1024 * 1024 + 1, 0x61), datedSigner('EC_P256')), rejectsWith('INPUT_TOO_LARGE'));
  });
});
