// The signature formats against a real node over mutual TLS, the way the signing service will use
// them: the artifact hashed here (streamed), the module reached only through the SDK (sdkKeySigner),
// and every output checked by its standard tool: openssl for raw and CMS, jose for JWS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flattenedVerify, importSPKI } from 'jose';
import { timeStampTokenOf } from '../src/client/index.ts';
import { hashArtifact } from '../src/signing/artifact-hash.ts';
import { cmsSigner } from '../src/signing/formats/cms/index.ts';
import { jwsSigner } from '../src/signing/formats/jws/index.ts';
import { rawSigner } from '../src/signing/formats/raw/index.ts';
import { sdkKeySigner } from '../src/signing/sdk-key-signer.ts';
import { coffer, failsWith, ok } from './coffer-command-kit.ts';
import { startReadyNode } from './tls-node-kit.ts';

function openssl(args: readonly string[]): { ok: boolean; out: string } {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

describe('signature formats through the SDK', () => {
  it('raw (RSA-PSS, P-384, Ed25519) and CMS with a time-stamp verify with openssl, JWS (ES256, RS256) with jose; a rotation between describe and sign is refused', { timeout: 120_000 }, async (t) => {
    const node = await startReadyNode(t);
    const ursula = node.client(node.pki.user);
    const artifact = join(node.dir, 'release.bin');
    const bytes = randomBytes(2 * 1024 * 1024 + 3);
    writeFileSync(artifact, bytes);
    const publicPem = async (name: string): Promise<string> => {
      const path = join(node.dir, `${name}.pub.pem`);
      writeFileSync(path, (await ursula.keys.publicKey(`alpha/${name}`)).pem);
      return path;
    };

    for (const [name, spec, algorithm, dgst] of [
      ['rsa', 'RSA_2048', 'RSASSA_PSS_SHA_256', ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest']],
      ['p384', 'EC_P384', undefined, ['-sha384']],
    ] as const) {
      await ursula.keys.create({ project: 'alpha', name, spec, usage: 'SIGN_VERIFY' });
      const signer = await sdkKeySigner(ursula, `alpha/${name}`);
      const options = algorithm === undefined ? {} : { algorithm };
      const digest = await hashArtifact(rawSigner.hashPlan(signer, options), artifact);
      const signed = await rawSigner.sign(digest, signer, options);
      const sigPath = join(node.dir, `${name}.sig`);
      writeFileSync(sigPath, signed.bytes);
      const verified = openssl(['dgst', ...dgst, '-verify', await publicPem(name), '-signature', sigPath, artifact]);
      assert.ok(verified.ok && /Verified OK/.test(verified.out), `${name}: ${verified.out}`);
    }

    // Ed25519: the module signs the SHA-512 digest bytes; openssl checks over the digest it computes itself.
    await ursula.keys.create({ project: 'alpha', name: 'ed', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    const ed = await sdkKeySigner(ursula, 'alpha/ed');
    const edSigned = await rawSigner.sign(await hashArtifact(rawSigner.hashPlan(ed), artifact), ed);
    const digestPath = join(node.dir, 'release.sha512');
    writeFileSync(digestPath, spawnSync('openssl', ['dgst', '-sha512', '-binary', artifact]).stdout);
    writeFileSync(join(node.dir, 'ed.sig'), edSigned.bytes);
    const edVerified = openssl(['pkeyutl', '-verify', '-pubin', '-inkey', await publicPem('ed'), '-rawin', '-in', digestPath, '-sigfile', join(node.dir, 'ed.sig')]);
    assert.ok(edVerified.ok && /Signature Verified Successfully/.test(edVerified.out), edVerified.out);

    // JWS with a detached, unencoded payload: the whole file is the payload jose verifies.
    for (const [name, spec, alg, options] of [['es', 'EC_P256', 'ES256', {}], ['rs', 'RSA_2048', 'RS256', {}]] as const) {
      await ursula.keys.create({ project: 'alpha', name, spec, usage: 'SIGN_VERIFY' });
      const signer = await sdkKeySigner(ursula, `alpha/${name}`);
      const signed = await jwsSigner.sign(await hashArtifact(jwsSigner.hashPlan(signer, options), artifact), signer, options);
      const [header, payload, signature] = signed.bytes.toString('ascii').split('.');
      assert.equal(payload, '');
      const key = await importSPKI((await ursula.keys.publicKey(`alpha/${name}`)).pem, alg);
      const result = await flattenedVerify({ protected: header ?? '', payload: bytes, signature: signature ?? '' }, key);
      const protectedHeader = result.protectedHeader ?? assert.fail('the JWS has no protected header');
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.kid, signer.keyId);
      await assert.rejects(flattenedVerify({ protected: header ?? '', payload: Buffer.concat([bytes, Buffer.from('x')]), signature: signature ?? '' }, key));
    }

    // CMS: the key's certificate comes from the built-in CA (attached to the key), the time-stamp from
    // Coffer's own TSA over the signature; openssl cms -verify checks the whole.
    await ursula.keys.create({ project: 'alpha', name: 'ca', spec: 'EC_P384', usage: 'SIGN_VERIFY' });
    const ca = await ursula.pki.createCa({ name: 'ca', key: 'alpha/ca', subject: 'CN=Release CA, O=Acme' });
    await ursula.keys.create({ project: 'alpha', name: 'cms', spec: 'RSA_3072', usage: 'SIGN_VERIFY' });
    await ursula.pki.issueForKey('alpha/ca', 'alpha/cms', { subject: 'CN=Release signer, O=Acme', extendedKeyUsage: ['codeSigning'] });
    await ursula.keys.create({ project: 'alpha', name: 'tsa', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    await ursula.pki.issueForKey('alpha/ca', 'alpha/tsa', { subject: 'CN=Release TSA, O=Acme', extendedKeyUsage: ['timeStamping'] });
    const cms = await sdkKeySigner(ursula, 'alpha/cms');
    assert.equal(cms.certificates?.length, 2);
    const stamped: Buffer[] = [];
    const cmsSigned = await cmsSigner.sign(await hashArtifact(cmsSigner.hashPlan(cms), artifact), cms, {
      timeStamp: async (signature) => {
        const answer = await ursula.tsa.stamp('alpha/tsa', ursula.tsa.buildQuery({ data: signature }, { hash: 'SHA-256' }));
        assert.equal(answer.granted, true);
        stamped.push(answer.reply);
        return timeStampTokenOf(answer.reply);
      },
    });
    assert.equal(stamped.length, 1);
    const p7s = join(node.dir, 'release.p7s');
    writeFileSync(p7s, cmsSigned.bytes);
    const rootPath = join(node.dir, 'release-ca.pem');
    writeFileSync(rootPath, ca.certificate);
    const cmsVerified = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7s, '-content', artifact, '-CAfile', rootPath, '-purpose', 'any', '-out', '/dev/null']);
    assert.ok(cmsVerified.ok && /Verification successful/.test(cmsVerified.out), cmsVerified.out);
    assert.match(openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', p7s]).out, /id-smime-aa-timeStampToken/);

    // Direct signing from the command line: hashed here, assembled here, verified by openssl.
    const env = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath, COFFER_CERT: node.pki.user.certPath, COFFER_KEY: node.pki.user.keyPath };
    const cliSig = join(node.dir, 'cli.sig');
    ok(await coffer(['sign', 'alpha/p384', '--direct', '--in', artifact, '--out', cliSig], env), 'sign --direct');
    const cliVerified = openssl(['dgst', '-sha384', '-verify', await publicPem('p384'), '-signature', cliSig, artifact]);
    assert.ok(cliVerified.ok && /Verified OK/.test(cliVerified.out), cliVerified.out);
    const cliP7s = join(node.dir, 'cli.p7s');
    const summary = JSON.parse(ok(await coffer(['sign', 'alpha/cms', '--direct', '--as', 'cms', '--in', artifact, '--out', cliP7s, '--time-stamp', 'alpha/tsa', '--json'], env), 'sign --direct --as cms')) as Record<string, unknown>;
    assert.equal(summary['size'], bytes.length);
    assert.equal(summary['format'], 'cms');
    const cliCms = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', cliP7s, '-content', artifact, '-CAfile', rootPath, '-purpose', 'any', '-out', '/dev/null']);
    assert.ok(cliCms.ok && /Verification successful/.test(cliCms.out), cliCms.out);
    failsWith(await coffer(['sign', 'alpha/ed', '--direct', '--as', 'jws', '--in', artifact, '--out', join(node.dir, 'ed.jws')], env), 'INCOMPATIBLE_ALGORITHM', 'jws with Ed25519');
    failsWith(await coffer(['sign', 'alpha/p384', '--direct', '--as', 'pgp', '--in', artifact], env), 'UNSUPPORTED_ALGORITHM', 'an unknown format');

    // The signer describes version 1; after a rotation its signature would come from version 2.
    const stale = await sdkKeySigner(ursula, 'alpha/p384');
    await ursula.keys.rotate('alpha/p384');
    await assert.rejects(rawSigner.sign(await hashArtifact(rawSigner.hashPlan(stale), artifact), stale), (error: unknown) => (error as { code?: string }).code === 'STORE_CONFLICT');
  });
});
