// The crypto operations of /v1/crypto, one entry each: request schema, result schema and how to run
// it. Single and batch routes are both built from this table, so their items cannot drift apart.
import type { Caller, KeyEngine } from '../../core/engine/index.ts';
import type { SignatureFormat } from '../../core/algorithms/names.ts';
import { base64Schema, decodeBase64Field, encodeBase64 } from '../base64-field.ts';
import { parseKeyRef } from '../key-ref.ts';
import { reEncrypt } from '../re-encrypt.ts';
import { KEY_REF_PATTERN, stringMap, UUID_PATTERN } from './schemas.ts';

type Json = Record<string, unknown>;

export interface CryptoRequest {
  readonly name: string;
  readonly summary: string;
  readonly body: { readonly required: readonly string[]; readonly properties: Json };
  readonly result: { readonly required: readonly string[]; readonly properties: Json };
  /** Offered as /batch too (random is not: one call already returns up to 1 KiB). */
  readonly batch: boolean;
  /** `body` has passed the schema above. */
  run(engine: KeyEngine, caller: Caller, body: unknown): Promise<Json>;
}

interface TypedRequest<B> extends Omit<CryptoRequest, 'run'> {
  run(engine: KeyEngine, caller: Caller, body: B): Promise<Json>;
}

/** Types one entry's body; the cast is sound because the route validated the body against `body`. */
function define<B>(request: TypedRequest<B>): CryptoRequest {
  return { ...request, run: (engine, caller, body) => request.run(engine, caller, body as B) };
}

const KEY_REF = { type: 'string', pattern: KEY_REF_PATTERN, description: 'Key id, or project/name' } as const;
const CONTEXT = stringMap('Encryption context: bound to the ciphertext, needed again to decrypt');
const ALGORITHM = { type: 'string', minLength: 1, maxLength: 64 } as const;
const FORMAT = { type: 'string', enum: ['DER', 'RAW'], description: 'ECDSA signature encoding (default DER)' } as const;
const VERSION = { type: 'integer' } as const;

/** Copies the optional fields that are present, so exactOptionalPropertyTypes never sees undefined. */
function present<T extends Json>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** Encodes a secret buffer for the response, then wipes the buffer (the string is what leaves). */
function releaseSecret(bytes: Buffer): string {
  const text = encodeBase64(bytes);
  bytes.fill(0);
  return text;
}

interface SignBody { keyId: string; algorithm: string; message?: string; digest?: string; format?: SignatureFormat }

function signInput(body: SignBody): { algorithm: string; message?: Buffer; digest?: Buffer; format?: SignatureFormat } {
  return present({
    algorithm: body.algorithm,
    message: body.message === undefined ? undefined : decodeBase64Field(body.message, 'message'),
    digest: body.digest === undefined ? undefined : decodeBase64Field(body.digest, 'digest'),
    format: body.format,
  });
}

export const CRYPTO_REQUESTS: readonly CryptoRequest[] = [
  define<{ keyId: string; plaintext: string; context?: Record<string, string>; algorithm?: string }>({
    name: 'encrypt',
    summary: "Encrypt under the key's newest version (AES-256-GCM with context, or RSA-OAEP)",
    batch: true,
    body: { required: ['keyId', 'plaintext'], properties: { keyId: KEY_REF, plaintext: base64Schema('Plaintext'), context: CONTEXT, algorithm: ALGORITHM } },
    result: {
      required: ['ciphertext', 'keyId', 'keyVersion', 'algorithm'],
      properties: { ciphertext: base64Schema('Self-describing Coffer ciphertext'), keyId: { type: 'string' }, keyVersion: VERSION, algorithm: { type: 'string' } },
    },
    run: async (engine, caller, b) => {
      const r = await engine.crypto.encrypt(caller, parseKeyRef(b.keyId), decodeBase64Field(b.plaintext, 'plaintext'), present({ context: b.context, algorithm: b.algorithm }));
      return { ciphertext: encodeBase64(r.ciphertext), keyId: r.keyId, keyVersion: r.keyVersion, algorithm: r.algorithm };
    },
  }),
  define<{ ciphertext: string; context?: Record<string, string>; keyId?: string }>({
    name: 'decrypt',
    summary: 'Decrypt a Coffer ciphertext (the key and version come from its header)',
    batch: true,
    body: { required: ['ciphertext'], properties: { ciphertext: base64Schema('Ciphertext'), context: CONTEXT, keyId: { type: 'string', pattern: UUID_PATTERN, description: 'Refuse unless the ciphertext is under this key' } } },
    result: {
      required: ['plaintext', 'keyId', 'keyVersion', 'algorithm'],
      properties: { plaintext: base64Schema('Plaintext'), keyId: { type: 'string' }, keyVersion: VERSION, algorithm: { type: 'string' } },
    },
    run: async (engine, caller, b) => {
      const r = await engine.crypto.decrypt(caller, decodeBase64Field(b.ciphertext, 'ciphertext'), present({ context: b.context, keyId: b.keyId }));
      return { plaintext: releaseSecret(r.plaintext), keyId: r.keyId, keyVersion: r.keyVersion, algorithm: r.algorithm };
    },
  }),
  define<{ ciphertext: string; sourceContext?: Record<string, string>; sourceKeyId?: string; keyId: string; context?: Record<string, string>; algorithm?: string }>({
    name: 're-encrypt',
    summary: 'Decrypt and encrypt again under another key (or the newest version), inside the node',
    batch: true,
    body: {
      required: ['ciphertext', 'keyId'],
      properties: {
        ciphertext: base64Schema('Ciphertext'), sourceContext: CONTEXT, sourceKeyId: { type: 'string', pattern: UUID_PATTERN },
        keyId: { ...KEY_REF, description: 'Destination key id, or project/name' }, context: CONTEXT, algorithm: ALGORITHM,
      },
    },
    result: {
      required: ['ciphertext', 'keyId', 'keyVersion', 'algorithm', 'sourceKeyId', 'sourceKeyVersion'],
      properties: {
        ciphertext: base64Schema('Ciphertext under the destination key'), keyId: { type: 'string' }, keyVersion: VERSION, algorithm: { type: 'string' },
        sourceKeyId: { type: 'string' }, sourceKeyVersion: VERSION,
      },
    },
    run: async (engine, caller, b) => {
      const r = await reEncrypt(engine, caller, {
        ciphertext: decodeBase64Field(b.ciphertext, 'ciphertext'), destination: parseKeyRef(b.keyId),
        ...present({ sourceContext: b.sourceContext, sourceKeyId: b.sourceKeyId, destinationContext: b.context, algorithm: b.algorithm }),
      });
      return { ciphertext: encodeBase64(r.ciphertext), keyId: r.keyId, keyVersion: r.keyVersion, algorithm: r.algorithm, sourceKeyId: r.sourceKeyId, sourceKeyVersion: r.sourceKeyVersion };
    },
  }),
  define<{ keyId: string; bytes?: number; context?: Record<string, string>; withoutPlaintext?: boolean }>({
    name: 'data-key',
    summary: 'A fresh data key for envelope encryption: its plaintext and its ciphertext under the key',
    batch: true,
    body: {
      required: ['keyId'],
      properties: { keyId: KEY_REF, bytes: { type: 'integer', minimum: 16, maximum: 64, description: 'Default 32' }, context: CONTEXT, withoutPlaintext: { type: 'boolean' } },
    },
    result: {
      required: ['ciphertext', 'keyId', 'keyVersion'],
      properties: { plaintext: base64Schema('The data key'), ciphertext: base64Schema('The data key, encrypted'), keyId: { type: 'string' }, keyVersion: VERSION },
    },
    run: async (engine, caller, b) => {
      const r = await engine.crypto.generateDataKey(caller, parseKeyRef(b.keyId), present({ bytes: b.bytes, context: b.context, withoutPlaintext: b.withoutPlaintext }));
      return { ...(r.plaintext === undefined ? {} : { plaintext: releaseSecret(r.plaintext) }), ciphertext: encodeBase64(r.ciphertext), keyId: r.keyId, keyVersion: r.keyVersion };
    },
  }),
  define<SignBody>({
    name: 'sign',
    summary: 'Sign a message, or a digest computed with the algorithm’s hash',
    batch: true,
    body: {
      required: ['keyId', 'algorithm'],
      properties: { keyId: KEY_REF, algorithm: ALGORITHM, message: base64Schema('Message (exactly one of message, digest)'), digest: base64Schema('Digest'), format: FORMAT },
    },
    result: {
      required: ['signature', 'keyId', 'keyVersion', 'algorithm'],
      properties: { signature: base64Schema('Signature'), keyId: { type: 'string' }, keyVersion: VERSION, algorithm: { type: 'string' } },
    },
    run: async (engine, caller, b) => {
      const r = await engine.crypto.sign(caller, parseKeyRef(b.keyId), signInput(b));
      return { signature: encodeBase64(r.signature), keyId: r.keyId, keyVersion: r.keyVersion, algorithm: r.algorithm };
    },
  }),
  define<SignBody & { signature: string; keyVersion?: number }>({
    name: 'verify',
    summary: 'Verify a signature (every accepted version is tried unless keyVersion is given)',
    batch: true,
    body: {
      required: ['keyId', 'algorithm', 'signature'],
      properties: {
        keyId: KEY_REF, algorithm: ALGORITHM, message: base64Schema('Message'), digest: base64Schema('Digest'), format: FORMAT,
        signature: base64Schema('Signature'), keyVersion: { type: 'integer', minimum: 1 },
      },
    },
    result: { required: ['valid', 'keyId'], properties: { valid: { type: 'boolean' }, keyId: { type: 'string' }, keyVersion: VERSION } },
    run: async (engine, caller, b) => {
      const r = await engine.crypto.verify(caller, parseKeyRef(b.keyId), {
        ...signInput(b), signature: decodeBase64Field(b.signature, 'signature'), ...present({ keyVersion: b.keyVersion }),
      });
      return { ...r };
    },
  }),
  define<{ keyId: string; message: string; algorithm?: string }>({
    name: 'mac',
    summary: 'Compute an HMAC',
    batch: true,
    body: { required: ['keyId', 'message'], properties: { keyId: KEY_REF, message: base64Schema('Message'), algorithm: ALGORITHM } },
    result: { required: ['mac', 'keyId', 'keyVersion'], properties: { mac: base64Schema('MAC'), keyId: { type: 'string' }, keyVersion: VERSION } },
    run: async (engine, caller, b) => {
      const r = await engine.crypto.generateMac(caller, parseKeyRef(b.keyId), decodeBase64Field(b.message, 'message'), present({ algorithm: b.algorithm }));
      return { mac: encodeBase64(r.mac), keyId: r.keyId, keyVersion: r.keyVersion };
    },
  }),
  define<{ keyId: string; message: string; mac: string; algorithm?: string }>({
    name: 'verify-mac',
    summary: 'Verify an HMAC (constant time; every accepted version is tried)',
    batch: true,
    body: { required: ['keyId', 'message', 'mac'], properties: { keyId: KEY_REF, message: base64Schema('Message'), mac: base64Schema('MAC'), algorithm: ALGORITHM } },
    result: { required: ['valid', 'keyId'], properties: { valid: { type: 'boolean' }, keyId: { type: 'string' }, keyVersion: VERSION } },
    run: async (engine, caller, b) => {
      const r = await engine.crypto.verifyMac(caller, parseKeyRef(b.keyId), decodeBase64Field(b.message, 'message'), decodeBase64Field(b.mac, 'mac'), present({ algorithm: b.algorithm }));
      return { ...r };
    },
  }),
  define<{ bytes: number }>({
    name: 'random',
    summary: 'Random bytes from the node’s CSPRNG (1-1024)',
    batch: false,
    body: { required: ['bytes'], properties: { bytes: { type: 'integer', minimum: 1, maximum: 1024 } } },
    result: { required: ['random'], properties: { random: base64Schema('Random bytes') } },
    run: async (engine, caller, b) => ({ random: releaseSecret(await engine.crypto.random(caller, b.bytes)) }),
  }),
];
