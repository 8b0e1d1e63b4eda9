// Test-only helpers for the VSSM API: a server with a user `alice` in project alpha, and a POST
// to /REST/v1/<path> as a given principal. Imported by *.test.ts files only.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { VssmAlgorithmKind } from './vssm-algorithms.ts';
import { createPrincipal, openTestServer, PASSWORD, type Reply, type TestServer, type TestServerOptions } from '../server-test-kit.ts';

export { errorCode, PASSWORD } from '../server-test-kit.ts';

export interface VssmTestServer {
  readonly server: TestServer;
  readonly alice: string;
  /** POST /REST/v1/<path> with `body` as JSON, as `token` (alice by default). */
  readonly post: (path: string, body: unknown, token?: string) => Promise<Reply>;
  /** admin/generatekey as alice; asserts it succeeded. */
  readonly generate: (keyName: string, keyType: string, keySpec?: string, keySize?: number | string) => Promise<void>;
}

/** Weak names VSSM's own service accepts (or that its clients might send), per endpoint family. */
export const WEAK_NAMES: Record<VssmAlgorithmKind, readonly string[]> = {
  symmetric: ['DES/CBC/PKCS5Padding', 'DES/ECB/NoPadding', '3DES/CBC/PKCS5Padding', '3DES/CTR/NoPadding', 'DESede/CBC/PKCS5Padding', 'AES/ECB/PKCS5Padding', 'AES/ECB/NoPadding', 'RC4'],
  asymmetric: ['RSA', 'RSA-OAEP/SHA1', 'RSA/ECB/PKCS1Padding', 'RSA/NONE/PKCS1Padding'],
  signature: ['SHA1withRSA', 'SHA1withECDSA', 'MD5withRSA', 'SHA1withRSA/PSS', 'ECDSAwithSHA1'],
  hmac: ['SHA1', 'MD5', 'HmacSHA1', 'HmacMD5', 'SHA-1'],
};

export const b64 = (data: string | Uint8Array): string => Buffer.from(data).toString('base64');

export async function openVssmServer(t: TestContext, options: TestServerOptions = {}): Promise<VssmTestServer> {
  const server = await openTestServer(t, options);
  const alice = await createPrincipal(server, 'alice', 'user', ['alpha']);
  const post = (path: string, body: unknown, token = alice) => server.call('POST', `/REST/v1/${path}`, { token, body });
  const generate = async (keyName: string, keyType: string, keySpec?: string, keySize?: number | string): Promise<void> => {
    const reply = await post('admin/generatekey', {
      adminPassword: PASSWORD, keyName, keyType, ...(keySpec === undefined ? {} : { keySpec }), ...(keySize === undefined ? {} : { keySize }),
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body, {});
  };
  return { server, alice, post, generate };
}
