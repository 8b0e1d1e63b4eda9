import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { certificateFingerprint, certificateSubjectCommonName, ensureDevPki } from './index.ts';
import { openssl, tempDir } from './pki-test-kit.ts';

const cleanups: (() => void)[] = [];
let userPem: string;
let officerPem: string;
let userPath: string;

before(async () => {
  const pki = await ensureDevPki(tempDir({ after: (cleanup: () => void) => cleanups.push(cleanup) }));
  userPath = pki.user.certPath;
  userPem = readFileSync(userPath, 'utf8');
  officerPem = readFileSync(pki.officer.certPath, 'utf8');
});

after(() => {
  for (const cleanup of cleanups) cleanup();
});

describe('certificateFingerprint', () => {
  it('is the lowercase hex SHA-256 of the DER, whether given PEM text, PEM bytes or DER', () => {
    const der = new X509Certificate(userPem).raw;
    const expected = certificateFingerprint(userPem);
    assert.match(expected, /^[0-9a-f]{64}$/);
    assert.equal(certificateFingerprint(der), expected);
    assert.equal(certificateFingerprint(new Uint8Array(der)), expected);
    assert.equal(certificateFingerprint(Buffer.from(userPem)), expected);
    assert.equal(certificateFingerprint(userPem.replaceAll('\n', '\r\n')), expected);
    assert.equal(certificateFingerprint(`subject=CN=dev-user\n${userPem}`), expected, 'text around the block is ignored');
    assert.notEqual(certificateFingerprint(officerPem), expected);
  });

  it("agrees with Node's fingerprint256 and with openssl's SHA-256 fingerprint", async () => {
    const expected = certificateFingerprint(userPem);
    assert.equal(new X509Certificate(userPem).fingerprint256.replaceAll(':', '').toLowerCase(), expected);
    const result = await openssl(['x509', '-in', userPath, '-noout', '-fingerprint', '-sha256']);
    assert.equal(result.status, 0, result.stderr);
    const fromOpenssl = /Fingerprint=([0-9A-F:]+)/i.exec(result.stdout)?.[1] ?? '';
    assert.equal(fromOpenssl.replaceAll(':', '').toLowerCase(), expected);
  });

  it('refuses garbage with INVALID_ARGUMENT', () => {
    const der = new X509Certificate(userPem).raw;
    const body = userPem.split('\n').slice(1, -2).join('\n');
    const garbage: unknown[] = [
      '',
      'hello',
      randomBytes(300),
      new Uint8Array(0),
      Buffer.concat([der, Buffer.from([0])]),
      der.subarray(0, der.length - 1),
      `${userPem}${officerPem}`,
      userPem.replace(body.slice(10, 14), '!!!!'),
      userPem.replace('-----END CERTIFICATE-----', '-----END PUBLIC KEY-----'),
      userPem.replaceAll('CERTIFICATE', 'X509 CRL'),
      `-----BEGIN CERTIFICATE-----\n${randomBytes(90).toString('base64')}\n-----END CERTIFICATE-----\n`,
      Buffer.alloc(70 * 1024, 0x30),
      'A'.repeat(300 * 1024),
      42,
      undefined,
      null,
    ];
    for (const input of garbage) {
      assert.throws(() => certificateFingerprint(input as string), { code: 'INVALID_ARGUMENT' }, String(input).slice(0, 40));
    }
  });
});

describe('certificateSubjectCommonName', () => {
  it('reads the subject CN, and refuses garbage', () => {
    assert.equal(certificateSubjectCommonName(userPem), 'dev-user');
    assert.equal(certificateSubjectCommonName(new X509Certificate(officerPem).raw), 'dev-officer');
    assert.throws(() => certificateSubjectCommonName('nope'), { code: 'INVALID_ARGUMENT' });
  });

  it('is undefined without a CN, and the last CN when there are several (openssl-made certificates)', async (t) => {
    const dir = tempDir(t);
    const make = async (subject: string): Promise<string> => {
      const result = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', subject, '-keyout', 'key.pem', '-out', 'cert.pem'], dir);
      assert.equal(result.status, 0, result.stderr);
      return readFileSync(`${dir}/cert.pem`, 'utf8');
    };
    assert.equal(certificateSubjectCommonName(await make('/O=No common name')), undefined);
    assert.equal(certificateSubjectCommonName(await make('/CN=first/O=x/CN=second')), 'second');
  });
});
