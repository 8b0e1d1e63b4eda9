// /v1/crypto: every operation single and batched, each marked idempotent (a pure computation, safe
// to run again on another node). One table says which fields are bytes, so the
// base64 coding of single calls and batch items cannot drift apart.
import { decodeBase64, encodeBase64, type BytesLike } from './bytes.ts';
import { apiErrorFrom, protocolError } from './client-errors.ts';
import type { BatchResult, CryptoOperation, CryptoOperations, DataKeyRequest, DataKeyResult, DecryptRequest, DecryptResult, EncryptRequest, EncryptResult, MacRequest, MacResult, ReEncryptRequest, ReEncryptResult, SignRequest, SignResult, VerifyMacRequest, VerifyRequest, VerifyResult } from './crypto-types.ts';
import type { Transport } from './transport.ts';

type Json = Record<string, unknown>;

const BYTE_FIELDS: Readonly<Record<CryptoOperation, { readonly request: readonly string[]; readonly result: readonly string[] }>> = {
  encrypt: { request: ['plaintext'], result: ['ciphertext'] },
  decrypt: { request: ['ciphertext'], result: ['plaintext'] },
  're-encrypt': { request: ['ciphertext'], result: ['ciphertext'] },
  'data-key': { request: [], result: ['plaintext', 'ciphertext'] },
  sign: { request: ['message', 'digest'], result: ['signature'] },
  verify: { request: ['message', 'digest', 'signature'], result: [] },
  mac: { request: ['message'], result: ['mac'] },
  'verify-mac': { request: ['message', 'mac'], result: [] },
};

function encodeRequest(op: CryptoOperation, request: object): Json {
  const body: Json = {};
  for (const [name, value] of Object.entries(request)) {
    if (value === undefined) continue;
    body[name] = BYTE_FIELDS[op].request.includes(name) ? encodeBase64(value as BytesLike) : value;
  }
  return body;
}

function decodeResult<K extends CryptoOperation>(op: K, answer: unknown): CryptoOperations[K]['result'] {
  if (typeof answer !== 'object' || answer === null) throw protocolError(`the ${op} answer is not an object`, 200, undefined);
  const result: Json = { ...(answer as Json) };
  for (const name of BYTE_FIELDS[op].result) {
    if (result[name] !== undefined) result[name] = decodeBase64(result[name], name);
  }
  // The shape is the API's (response allowlist on the node); only the byte fields are converted.
  return result as unknown as CryptoOperations[K]['result'];
}

export class CryptoApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Any operation of the table, single. */
  async call<K extends CryptoOperation>(op: K, request: CryptoOperations[K]['request']): Promise<CryptoOperations[K]['result']> {
    return decodeResult(op, await this.#http.send('POST', `/v1/crypto/${op}`, { body: encodeRequest(op, request), idempotent: true }));
  }

  /**
   * Any operation of the table, batched (1-1,000 items): one result per item, in order. A failed
   * item carries its own CofferApiError; the others are unaffected.
   */
  async batch<K extends CryptoOperation>(op: K, items: readonly CryptoOperations[K]['request'][]): Promise<BatchResult<CryptoOperations[K]['result']>[]> {
    const { body, requestId } = await this.#http.exchange('POST', `/v1/crypto/${op}/batch`, { body: { items: items.map((item) => encodeRequest(op, item)) }, idempotent: true });
    const results = typeof body === 'object' && body !== null ? (body as Json)['results'] : undefined;
    if (!Array.isArray(results) || results.length !== items.length) throw protocolError(`the ${op} batch answer does not hold one result per item`, 200, requestId);
    return results.map((item: unknown): BatchResult<CryptoOperations[K]['result']> => {
      const fields = (typeof item === 'object' && item !== null ? item : {}) as Json;
      if (fields['ok'] === true) {
        const { ok: _ok, ...rest } = fields;
        return { ok: true, ...decodeResult(op, rest) };
      }
      return { ok: false, error: apiErrorFrom(fields, undefined, requestId) };
    });
  }

  encrypt(request: EncryptRequest): Promise<EncryptResult> { return this.call('encrypt', request); }
  decrypt(request: DecryptRequest): Promise<DecryptResult> { return this.call('decrypt', request); }
  reEncrypt(request: ReEncryptRequest): Promise<ReEncryptResult> { return this.call('re-encrypt', request); }
  generateDataKey(request: DataKeyRequest): Promise<DataKeyResult> { return this.call('data-key', request); }
  sign(request: SignRequest): Promise<SignResult> { return this.call('sign', request); }
  verify(request: VerifyRequest): Promise<VerifyResult> { return this.call('verify', request); }
  mac(request: MacRequest): Promise<MacResult> { return this.call('mac', request); }
  verifyMac(request: VerifyMacRequest): Promise<VerifyResult> { return this.call('verify-mac', request); }

  encryptBatch(items: readonly EncryptRequest[]): Promise<BatchResult<EncryptResult>[]> { return this.batch('encrypt', items); }
  decryptBatch(items: readonly DecryptRequest[]): Promise<BatchResult<DecryptResult>[]> { return this.batch('decrypt', items); }
  reEncryptBatch(items: readonly ReEncryptRequest[]): Promise<BatchResult<ReEncryptResult>[]> { return this.batch('re-encrypt', items); }
  generateDataKeyBatch(items: readonly DataKeyRequest[]): Promise<BatchResult<DataKeyResult>[]> { return this.batch('data-key', items); }
  signBatch(items: readonly SignRequest[]): Promise<BatchResult<SignResult>[]> { return this.batch('sign', items); }
  verifyBatch(items: readonly VerifyRequest[]): Promise<BatchResult<VerifyResult>[]> { return this.batch('verify', items); }
  macBatch(items: readonly MacRequest[]): Promise<BatchResult<MacResult>[]> { return this.batch('mac', items); }
  verifyMacBatch(items: readonly VerifyMacRequest[]): Promise<BatchResult<VerifyResult>[]> { return this.batch('verify-mac', items); }

  /** 1-1024 bytes from the node's CSPRNG. */
  async random(bytes: number): Promise<Buffer> {
    const answer = await this.#http.send('POST', '/v1/crypto/random', { body: { bytes }, idempotent: true });
    return decodeBase64((answer as Json | undefined)?.['random'], 'random');
  }
}
