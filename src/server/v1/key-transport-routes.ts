// Key transport under /v1/keys: export of an exportable key version (wrapped under a WRAP_UNWRAP key
// or to a caller's RSA public key), BYOK import tokens and imports, and public-key-only imports.
// Cluster-to-cluster replicas travel only through quorum tokens (key.export, key.import-foreign).
import type { FastifyInstance } from 'fastify';
import { CofferError } from '../../core/errors.ts';
import { decodeBase64Field, encodeBase64, base64Schema } from '../base64-field.ts';
import { parseKeyRef } from '../key-ref.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { KEY_REF_PATTERN, keyIdParams, keyMetadataSchema, nameSchema, stringMap, UUID_PATTERN, withErrors } from './schemas.ts';

const TAGS = ['keys'];
const ALGORITHM_NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
const PEM = { type: 'string', minLength: 1, maxLength: 16_384, description: 'SPKI public key, PEM' } as const;
const CREATED = withErrors({ 201: keyMetadataSchema });

const exportResult = {
  type: 'object',
  additionalProperties: false,
  required: ['wrappedKey', 'keyId', 'keyVersion', 'algorithm'],
  properties: {
    wrappedKey: base64Schema('The key version wrapped: raw bytes (symmetric) or PKCS#8 DER (asymmetric) under the wrapping key'),
    keyId: { type: 'string' }, keyVersion: { type: 'integer' }, algorithm: { type: 'string' },
    wrappingKeyId: { type: 'string' }, wrappingKeyVersion: { type: 'integer' },
    wrappingKeyFingerprint: { type: 'string', description: 'SHA-256 (hex) of the wrapping public key’s SPKI' },
  },
} as const;

interface ExportBody { wrappingKeyId?: string; wrappingPublicKey?: string; algorithm: string; version?: number }
interface ImportTokenBody { project: string; spec: string; wrappingAlgorithm: string; wrappingKeyBits?: number; preserveId?: boolean }
interface KeyFields { project: string; name: string; spec: string; usage: string; description?: string; tags?: Record<string, string> }

const keyFields = {
  project: nameSchema('Project the key belongs to'),
  name: nameSchema('Key name, unique in its project'),
  spec: { ...ALGORITHM_NAME, description: 'The key spec the material must match' },
  usage: { ...ALGORITHM_NAME, description: 'ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, WRAP_UNWRAP' },
  description: { type: 'string', maxLength: 1024 },
  tags: stringMap('Up to 50 tags'),
} as const;

const present = <T extends Record<string, unknown>>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export function keyTransportRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const engine = () => ctx.services.engine;

  app.post<{ Params: { keyId: string }; Body: ExportBody }>('/v1/keys/:keyId/export', {
    schema: {
      summary: 'Export an exportable key version wrapped under a WRAP_UNWRAP key (AES_KWP, RSA_AES_KEY_WRAP_SHA_256, RSAES_OAEP_SHA_256) or to an RSA public key (owner only)',
      tags: TAGS, params: keyIdParams,
      body: {
        type: 'object', additionalProperties: false, required: ['algorithm'],
        properties: {
          wrappingKeyId: { type: 'string', pattern: KEY_REF_PATTERN, description: 'One of your WRAP_UNWRAP keys' },
          wrappingPublicKey: { ...PEM, description: 'Or an RSA-2048/3072/4096 SPKI PEM (an external HSM’s, openssl’s)' },
          algorithm: { ...ALGORITHM_NAME, description: 'AES_KWP, RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256 (small keys only)' },
          version: { type: 'integer', minimum: 1, description: 'Default: the current version' },
        },
      },
      response: withErrors({ 200: exportResult }),
    },
  }, async (request) => {
    const caller = callerOfRequest(request);
    const { wrappingKeyId, wrappingPublicKey, algorithm, version } = request.body;
    if ((wrappingKeyId === undefined) === (wrappingPublicKey === undefined)) {
      throw new CofferError('INVALID_ARGUMENT', 'give exactly one of wrappingKeyId and wrappingPublicKey');
    }
    // Under a quorum policy for key.export, export runs only through a quorum token (QUORUM_REQUIRED here).
    await ctx.services.quorum().requireUnguarded(caller, 'key.export', { operation: 'crypto.export-key', target: request.params.keyId });
    if (wrappingKeyId !== undefined) {
      const r = await engine().crypto.wrapKey(caller, parseKeyRef(wrappingKeyId), request.params.keyId, { algorithm, ...(version === undefined ? {} : { version }) });
      return { wrappedKey: encodeBase64(r.wrappedKey), keyId: r.targetKeyId, keyVersion: r.targetKeyVersion, algorithm, wrappingKeyId: r.wrappingKeyId, wrappingKeyVersion: r.wrappingKeyVersion };
    }
    const r = await engine().crypto.exportToPublicKey(caller, request.params.keyId, { publicKey: wrappingPublicKey ?? '', algorithm, ...(version === undefined ? {} : { version }) });
    return { wrappedKey: encodeBase64(r.wrappedKey), keyId: r.targetKeyId, keyVersion: r.targetKeyVersion, algorithm: r.algorithm, wrappingKeyFingerprint: r.wrappingKeyFingerprint };
  });

  app.post<{ Body: ImportTokenBody }>('/v1/keys/import-tokens', {
    schema: {
      summary: 'An import token: an RSA wrapping public key valid 24 hours for one import (bring your own key)', tags: TAGS,
      body: {
        type: 'object', additionalProperties: false, required: ['project', 'spec', 'wrappingAlgorithm'],
        properties: {
          project: nameSchema('Project the key will belong to'),
          spec: { ...ALGORITHM_NAME, description: 'Spec of the key to import' },
          wrappingAlgorithm: { ...ALGORITHM_NAME, description: 'RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256' },
          wrappingKeyBits: { type: 'integer', enum: [3072, 4096], description: 'Default 3072' },
          preserveId: { type: 'boolean', description: 'For a replica from another cluster (quorum class key.import-foreign)' },
        },
      },
      response: withErrors({
        201: {
          type: 'object', additionalProperties: false,
          required: ['importToken', 'wrappingPublicKey', 'wrappingPublicKeyFingerprint', 'wrappingAlgorithm', 'spec', 'project', 'preserveId', 'expiresAt'],
          properties: {
            importToken: { type: 'string' }, wrappingPublicKey: { type: 'string', description: 'SPKI PEM' }, wrappingPublicKeyFingerprint: { type: 'string' },
            wrappingAlgorithm: { type: 'string' }, spec: { type: 'string' }, project: { type: 'string' }, preserveId: { type: 'boolean' }, expiresAt: { type: 'string' },
          },
        },
      }),
    },
  }, async (request, reply) => reply.code(201).send(await ctx.services.importTokens().issue(callerOfRequest(request), present({ ...request.body }))));

  app.post<{ Body: KeyFields & { importToken: string; wrappedMaterial: string } }>('/v1/keys/import', {
    schema: {
      summary: 'Import key material wrapped to an import token’s public key; the key is non-exportable', tags: TAGS,
      body: {
        type: 'object', additionalProperties: false, required: ['importToken', 'project', 'name', 'spec', 'usage', 'wrappedMaterial'],
        properties: {
          ...keyFields,
          importToken: { type: 'string', pattern: UUID_PATTERN },
          wrappedMaterial: base64Schema('Raw bytes (symmetric) or PKCS#8 DER (asymmetric), wrapped with the token’s algorithm'),
        },
      },
      response: CREATED,
    },
  }, async (request, reply) => {
    const caller = callerOfRequest(request);
    const { importToken, wrappedMaterial, ...fields } = request.body;
    const wrapped = decodeBase64Field(wrappedMaterial, 'wrappedMaterial');
    const key = await ctx.services.importTokens().spend(caller, importToken, (token) => engine().keys.importWithToken(caller, { ...fields, wrappedMaterial: wrapped }, token));
    return reply.code(201).send(key);
  });

  app.post<{ Body: KeyFields & { publicKey: string } }>('/v1/keys/import-public', {
    schema: {
      summary: 'Import a public key alone: a key that verifies (and RSA-encrypts) but never signs or decrypts', tags: TAGS,
      body: { type: 'object', additionalProperties: false, required: ['project', 'name', 'spec', 'usage', 'publicKey'], properties: { ...keyFields, publicKey: PEM } },
      response: CREATED,
    },
  }, async (request, reply) => reply.code(201).send(await engine().keys.importPublic(callerOfRequest(request), request.body)));
}
