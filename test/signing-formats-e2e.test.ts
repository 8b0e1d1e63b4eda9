// The signature formats against a real node over mutual TLS, the way the signing service will use
// them: the artifact hashed here (streamed), the module reached only through the SDK (sdkKeySigner),
// and every output checked by its standard tool: openssl for raw, jose for JWS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flattenedVerify, importSPKI } from 'jose';
import { hashArtifact } from '../src/signing/artifact-hash.ts';
import { jwsSigner } from '../src/signing/formats/jws/index.ts';
import { rawSigner } from '../src/signing/formats/raw/index.ts';
import { sdkKeySigner } from '../src/signing/sdk-key-signer.ts';
import { startReadyNode } from './tls-node-kit.ts';

function openssl(args: readonly string[]): { ok: boolean; out: string } {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

describe('signature formats through the SDK', () => {
  it('raw (RSA-PSS, P-384, Ed25519) verifies with openssl and JWS (ES256, RS256) with jose; a rotation between describe and sign is refused', { timeout: 120_000 }, async (t) => {
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
      assert.equal(result.protectedHeader.alg, alg);
      assert.equal(result.protectedHeader.kid, signer.keyId);
      await assert.rejects(flattenedVerify({ protected: header ?? '', payload: Buffer.concat([bytes, Buffer.from('x')]), signature: signature ?? '' }, key));
    }

    // The signer describes version 1; after a rotation its signature would come from version 2.
    const stale = await sdkKeySigner(ursula, 'alpha/p384');
    await ursula.keys.rotate('alpha/p384');
    await assert.rejects(rawSigner.sign(await hashArtifact(rawSigner.hashPlan(stale), artifact), stale), (error: unknown) => (error as { code?: string }).code === 'STORE_CONFLICT');
  });
});
