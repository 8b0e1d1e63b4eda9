// Cross-tool: signatures from asymmetric/sign verify with `openssl dgst -verify` and the public key
// the native API serves; RSA-OAEP ciphertexts made by `openssl pkeyutl` decrypt via asymmetric/decrypt.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openssl, opensslOrThrow, ScratchDir } from '../../core/algorithms/openssl-test-kit.ts';
import { b64, openVssmServer, type VssmTestServer } from './vssm-test-kit.ts';

const scratch = new ScratchDir();
after(() => {
  scratch.remove();
});

async function publicKeyPem({ server, alice }: VssmTestServer, keyName: string): Promise<string> {
  const key = await server.call('GET', `/v1/projects/alpha/keys/${keyName}`, { token: alice });
  const served = await server.call('GET', `/v1/keys/${String(key.body['id'])}/public-key`, { token: alice });
  assert.equal(served.status, 200, served.text);
  return scratch.write(Buffer.from(String(served.body['pem'])), `${keyName}.pem`);
}

describe('VSSM API with openssl', () => {
  it('signs with SHA256withECDSA and SHA256withRSA, from the message or its digest, as openssl dgst verifies', async (t) => {
    const vssm = await openVssmServer(t);
    await vssm.generate('ec', 'ASYMMETRIC', 'EC', 256);
    await vssm.generate('rsa', 'ASYMMETRIC', 'RSA', 2048);
    const message = Buffer.from('artefact to sign, VSSM style');
    const data = scratch.write(message, 'data');
    for (const [keyName, algorithm] of [['ec', 'SHA256withECDSA'], ['rsa', 'SHA256withRSA']] as const) {
      const pem = await publicKeyPem(vssm, keyName);
      const bodies = [{ input: b64(message) }, { hashed: b64(createHash('sha256').update(message).digest()) }];
      for (const body of bodies) {
        const signed = await vssm.post('asymmetric/sign', { ...body, keyName, algorithm });
        assert.equal(signed.status, 200, signed.text);
        const signature = scratch.write(Buffer.from(String(signed.body['output']), 'base64'), 'sig');
        const verified = openssl(['dgst', '-sha256', '-verify', pem, '-signature', signature, data]);
        assert.equal(verified.ok, true, `${algorithm} ${Object.keys(body).join()}`);
        assert.match(verified.stdout.toString(), /Verified OK/);
      }
      // The check can fail: a signature over other data does not verify.
      const other = await vssm.post('asymmetric/sign', { input: b64('other data'), keyName, algorithm });
      const signature = scratch.write(Buffer.from(String(other.body['output']), 'base64'), 'sig');
      assert.equal(openssl(['dgst', '-sha256', '-verify', pem, '-signature', signature, data]).ok, false);
    }
  });

  it('decrypts what openssl pkeyutl encrypts with RSA-OAEP (SHA-256) under the served public key', async (t) => {
    const vssm = await openVssmServer(t);
    const created = await vssm.server.call('POST', '/v1/keys', { token: vssm.alice, body: { project: 'alpha', name: 'rsa-enc', spec: 'RSA_3072', usage: 'ENCRYPT_DECRYPT' } });
    assert.equal(created.status, 201, created.text);
    const pem = await publicKeyPem(vssm, 'rsa-enc');
    const ciphertext = opensslOrThrow(['pkeyutl', '-encrypt', '-pubin', '-inkey', pem, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'], Buffer.from('from openssl'));
    assert.equal(ciphertext.length, 384);
    const decrypted = await vssm.post('asymmetric/decrypt', { input: b64(ciphertext), keyName: 'rsa-enc', algorithm: 'RSA-OAEP/SHA256' });
    assert.deepEqual(decrypted.body, { output: b64('from openssl') });
  });
});
