// /v1/domain: status, the public descriptor, init, unseal sessions and shares, seal. All but seal
// work while sealed and without a principal: custodians authenticate by the encrypted share itself.
import type { FastifyInstance } from 'fastify';
import type { UnsealShareEnvelope } from '../../barrier/index.ts';
import { domainDescriptor, initDomainWithOfficer, sealDomain, submitUnsealShare, type InitDomainInput } from '../domain-service.ts';
import { principalOf } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { TIMESTAMP, UUID_PATTERN, withErrors } from './schemas.ts';

const BASE64URL = { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 4096 } as const;
const OPEN = { auth: 'none', whileSealed: true } as const;
const TAGS = ['domain'];

const statusSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['state', 'nodeId'],
  properties: {
    state: { type: 'string', enum: ['UNINITIALIZED', 'SEALED', 'UNSEALED'] },
    nodeId: { type: 'string' },
    domainId: { type: 'string' },
    threshold: { type: 'integer' },
    custodians: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
    },
  },
} as const;

const descriptorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['formatVersion', 'domainId', 'createdAt', 'threshold', 'custodians', 'keyCheck', 'auditPublicKey'],
  description: 'The public domain descriptor: custodians open their encrypted shares from it.',
  properties: {
    formatVersion: { type: 'integer' },
    domainId: { type: 'string' },
    createdAt: TIMESTAMP,
    threshold: { type: 'integer' },
    custodians: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'publicKey', 'encryptedShare', 'shareDigest'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          publicKey: { type: 'string' },
          encryptedShare: {
            type: 'object', additionalProperties: false, required: ['enc', 'ciphertext'],
            properties: { enc: { type: 'string' }, ciphertext: { type: 'string' } },
          },
          shareDigest: { type: 'string' },
        },
      },
    },
    keyCheck: { type: 'string' },
    auditPublicKey: { type: 'string' },
  },
} as const;

const initBody = {
  type: 'object',
  additionalProperties: false,
  required: ['custodians', 'threshold', 'initialOfficer'],
  properties: {
    custodians: {
      type: 'array', minItems: 1, maxItems: 16,
      items: {
        type: 'object', additionalProperties: false, required: ['name', 'publicKey'],
        properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, publicKey: { ...BASE64URL, description: 'Raw X25519 public key, base64url' } },
      },
    },
    threshold: { type: 'integer', minimum: 1, maximum: 16 },
    initialOfficer: {
      type: 'object', additionalProperties: false, required: ['name', 'certificateFingerprint'],
      description: 'The first officer, created on the first unseal and bound to this client certificate.',
      properties: {
        name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
        certificateFingerprint: { type: 'string', pattern: '^(?:[0-9A-Fa-f]{64}|(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})$', description: 'SHA-256 of the certificate DER, hex (colons allowed)' },
      },
    },
  },
} as const;

const sessionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'nodePublicKey', 'expiresAt', 'threshold', 'received'],
  properties: { sessionId: { type: 'string' }, nodePublicKey: { type: 'string' }, expiresAt: TIMESTAMP, threshold: { type: 'integer' }, received: { type: 'integer' } },
} as const;

const envelopeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['formatVersion', 'domainId', 'custodianId', 'sessionId', 'enc', 'ciphertext'],
  description: "A custodian's share re-encrypted (HPKE) to the unseal session's public key.",
  properties: {
    formatVersion: { type: 'integer', const: 1 },
    domainId: { type: 'string', pattern: UUID_PATTERN },
    custodianId: { type: 'string', pattern: UUID_PATTERN },
    sessionId: { type: 'string', pattern: UUID_PATTERN },
    enc: BASE64URL,
    ciphertext: BASE64URL,
  },
} as const;

const progressSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['state', 'received', 'threshold'],
  properties: { state: { type: 'string' }, received: { type: 'integer' }, threshold: { type: 'integer' } },
} as const;

export function domainRoutes(app: FastifyInstance, { services }: RouteContext): void {
  app.get('/v1/domain', {
    schema: { summary: "This node's domain state", tags: TAGS, response: withErrors({ 200: statusSchema }) },
    config: OPEN,
  }, () => services.node.status());

  app.get('/v1/domain/descriptor', {
    schema: { summary: 'The public domain descriptor (encrypted custodian shares)', tags: TAGS, response: withErrors({ 200: descriptorSchema }) },
    config: OPEN,
  }, () => domainDescriptor(services));

  app.post<{ Body: InitDomainInput }>('/v1/domain/init', {
    schema: { summary: 'Create the security domain (only while UNINITIALIZED)', tags: TAGS, body: initBody, response: withErrors({ 201: descriptorSchema }) },
    config: OPEN,
  }, async (request, reply) => reply.code(201).send(await initDomainWithOfficer(services, request.body)));

  app.post('/v1/domain/unseal-session', {
    schema: { summary: 'Start (or return) the unseal session custodians encrypt their shares to', tags: TAGS, response: withErrors({ 200: sessionSchema }) },
    config: OPEN,
  }, () => services.node.beginUnseal());

  app.post<{ Body: UnsealShareEnvelope }>('/v1/domain/unseal', {
    schema: { summary: "Submit one custodian's encrypted share", tags: TAGS, body: envelopeBody, response: withErrors({ 200: progressSchema }) },
    config: OPEN,
  }, (request) => submitUnsealShare(services, request.body));

  app.post('/v1/domain/seal', {
    schema: { summary: 'Seal this node: wipe the domain key from memory (officers)', tags: TAGS, response: withErrors({ 200: statusSchema }) },
  }, (request) => sealDomain(services, principalOf(request), request.id));
}
