// /v1/quorum: officers register approval keys, set the first quorum policy, request officer
// operations (key owners request their keys' deletion and export), approve them with signatures made
// on their own machines, and apply them once: applying runs the operation and returns its result.
// The quorum service authorises and audits each call; tokens and the policy are read by officers and
// auditors (and a token by its requester).
import type { FastifyInstance } from 'fastify';
import { MAX_APPROVERS, QUORUM_OPERATIONS, type QuorumParameters, type QuorumSecret } from '../../approvals/quorum/index.ts';
import { base64Schema, decodeBase64Field } from '../base64-field.ts';
import { showQuorumPolicy, showQuorumToken } from '../quorum-reads.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { keyMetadataSchema, nameSchema, principalSchema, TIMESTAMP, UUID_PATTERN, withErrors } from './schemas.ts';

const TAGS = ['quorum'];
/** A PEM SPKI of either supported algorithm is a few hundred characters; the bound leaves room. */
const MAX_PUBLIC_KEY_CHARS = 8192;

const tokenParams = {
  type: 'object', additionalProperties: false, required: ['tokenId'],
  properties: { tokenId: { type: 'string', pattern: UUID_PATTERN, description: 'Approval token id (uuid)' } },
} as const;
const operationSchema = { type: 'string', enum: QUORUM_OPERATIONS, description: 'Operation class' } as const;
/** Free-form by design: what an operation needs; the service bounds its encoded size. */
const parametersSchema = { type: 'object', additionalProperties: true, description: 'The operation’s parameters, bound into the token digest' } as const;
const officerNames = { type: 'array', items: { type: 'string' } } as const;

const ruleSchema = {
  type: 'object', additionalProperties: false, required: ['threshold', 'approvers'],
  properties: {
    threshold: { type: 'integer', minimum: 1, maximum: MAX_APPROVERS, description: 'M: valid approvals needed' },
    approvers: { type: 'array', minItems: 1, maxItems: MAX_APPROVERS, items: nameSchema('Officer'), description: 'The N officers who may approve' },
  },
} as const;
const rulesSchema = {
  type: 'object', propertyNames: { enum: QUORUM_OPERATIONS }, additionalProperties: ruleSchema,
  description: 'Rule per operation class; must include quorum.policy-change',
} as const;
const rulesResponse = {
  type: 'object',
  additionalProperties: { type: 'object', additionalProperties: false, required: ['threshold', 'approvers'], properties: { threshold: { type: 'integer' }, approvers: officerNames } },
} as const;
const policySchema = {
  type: 'object', additionalProperties: false, required: ['version', 'rules'],
  properties: { version: { type: 'integer' }, rules: rulesResponse },
} as const;

const approvalKeySchema = {
  type: 'object', additionalProperties: false, required: ['officer', 'algorithm', 'fingerprint', 'registeredAt'],
  properties: {
    officer: { type: 'string' }, algorithm: { type: 'string' },
    fingerprint: { type: 'string', description: 'SHA-256 of the SPKI DER, lowercase hex' }, registeredAt: TIMESTAMP,
  },
} as const;

/** What a token shows: its binding (so approvers recompute the digest), who approved, its status. Never signatures. */
const tokenSchema = {
  type: 'object', additionalProperties: false,
  required: ['tokenId', 'operation', 'parameters', 'requester', 'createdAt', 'expiresAt', 'policyVersion', 'digest', 'status', 'approvals'],
  properties: {
    tokenId: { type: 'string' }, operation: { type: 'string' }, parameters: { type: 'object', additionalProperties: true },
    requester: { type: 'string' }, createdAt: TIMESTAMP, expiresAt: TIMESTAMP, policyVersion: { type: 'integer' },
    digest: { type: 'string', description: 'SHA-256 of the RFC 8785 binding, lowercase hex' },
    status: { type: 'string', enum: ['pending', 'expired', 'used'] },
    approvals: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['approver', 'approvedAt'], properties: { approver: { type: 'string' }, approvedAt: TIMESTAMP } } },
    usedAt: TIMESTAMP, usedBy: { type: 'string' },
  },
} as const;

const wrappedKeySchema = {
  type: 'object', additionalProperties: false, required: ['wrappedKey', 'wrappingKeyId', 'wrappingKeyVersion', 'targetKeyId', 'targetKeyVersion'],
  properties: {
    wrappedKey: { type: 'string', description: 'The key version wrapped, base64' }, wrappingKeyId: { type: 'string' }, wrappingKeyVersion: { type: 'integer' },
    targetKeyId: { type: 'string' }, targetKeyVersion: { type: 'integer' },
  },
} as const;

/** key.export's replica form: every version of a key wrapped to another cluster's import-token public key. */
const replicaSchema = {
  type: 'object', additionalProperties: false, required: ['format', 'key', 'wrappingAlgorithm', 'wrappingKeyFingerprint', 'versions'],
  properties: {
    format: { type: 'string', const: 'coffer-key-replica/v1' },
    key: {
      type: 'object', additionalProperties: false, required: ['id', 'name', 'project', 'spec', 'usage', 'description', 'tags', 'currentVersion', 'minDecryptVersion'],
      properties: {
        id: { type: 'string' }, name: { type: 'string' }, project: { type: 'string' }, spec: { type: 'string' }, usage: { type: 'string' }, description: { type: 'string' },
        tags: { type: 'object', additionalProperties: { type: 'string' } }, currentVersion: { type: 'integer' }, minDecryptVersion: { type: 'integer' },
      },
    },
    wrappingAlgorithm: { type: 'string' }, wrappingKeyFingerprint: { type: 'string' },
    versions: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['version', 'createdAt', 'wrappedMaterial'], properties: { version: { type: 'integer' }, createdAt: { type: 'string' }, wrappedMaterial: { type: 'string' } } },
    },
  },
} as const;

/** What running the operation returned: exactly one of these shapes, as the direct route would answer. */
const resultSchema = {
  description: 'principal.create and principal.role-change: the principal; key.delete: the key; key.export: the wrapped key, or a replica (coffer-key-replica/v1); key.import-foreign: the key; quorum.policy-change: the policy; otherwise null',
  anyOf: [{ type: 'null' }, principalSchema, keyMetadataSchema, wrappedKeySchema, replicaSchema, policySchema],
} as const;

const appliedSchema = {
  type: 'object', additionalProperties: false, required: ['tokenId', 'operation', 'parameters', 'requester', 'approvers', 'digest', 'result'],
  properties: {
    tokenId: { type: 'string' }, operation: { type: 'string' }, parameters: { type: 'object', additionalProperties: true },
    requester: { type: 'string' }, approvers: officerNames, digest: { type: 'string' }, result: resultSchema,
  },
} as const;

/** Never stored or shown: checked against the binding in the token's parameters, then used once. */
const secretSchema = {
  type: 'object', additionalProperties: false, required: ['password'], description: 'For tokens that bind a password (passwordSalt, passwordDigest)',
  properties: { password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

/** SPKI as PEM text goes to the service as text; anything else is base64 DER. */
function approvalKeyInput(text: string): string | Buffer {
  return text.trimStart().startsWith('-----BEGIN') ? text : decodeBase64Field(text, 'publicKey');
}

export function quorumRoutes(app: FastifyInstance, { services }: RouteContext): void {
  app.put<{ Body: { publicKey: string } }>('/v1/quorum/approval-key', {
    schema: {
      summary: "Register or replace the calling officer's approval public key (SPKI, Ed25519 or ECDSA P-256)", tags: TAGS,
      body: {
        type: 'object', additionalProperties: false, required: ['publicKey'],
        properties: { publicKey: { type: 'string', minLength: 1, maxLength: MAX_PUBLIC_KEY_CHARS, description: 'SPKI as PEM, or its DER in standard base64' } },
      },
      response: withErrors({ 200: approvalKeySchema }),
    },
  }, async (request) => services.quorum().registerApprovalKey(callerOfRequest(request), approvalKeyInput(request.body.publicKey)));

  app.get('/v1/quorum/policy', {
    schema: { summary: 'The quorum policy (officers, auditors)', tags: TAGS, response: withErrors({ 200: policySchema }) },
  }, async (request) => showQuorumPolicy(services.quorum(), callerOfRequest(request)));

  app.post<{ Body: { rules: unknown } }>('/v1/quorum/policy', {
    schema: {
      summary: 'Set the first quorum policy (officers); later changes need a quorum.policy-change token', tags: TAGS,
      body: { type: 'object', additionalProperties: false, required: ['rules'], properties: { rules: rulesSchema } },
      response: withErrors({ 201: policySchema }),
    },
  }, async (request, reply) => reply.code(201).send(await services.quorum().initializePolicy(callerOfRequest(request), request.body.rules)));

  app.post<{ Body: { operation: string; parameters: QuorumParameters } }>('/v1/quorum/requests', {
    schema: {
      summary: 'Request an officer operation (officers; key owners for key.delete and key.export): a token for the approvers to sign', tags: TAGS,
      body: { type: 'object', additionalProperties: false, required: ['operation', 'parameters'], properties: { operation: operationSchema, parameters: parametersSchema } },
      response: withErrors({ 201: tokenSchema }),
    },
  }, async (request, reply) => reply.code(201).send(await services.quorum().request(callerOfRequest(request), request.body)));

  app.get('/v1/quorum/requests', {
    schema: {
      summary: 'Pending requests: neither used nor expired (officers)', tags: TAGS,
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['requests'], properties: { requests: { type: 'array', items: tokenSchema } } } }),
    },
  }, async (request) => ({ requests: await services.quorum().list(callerOfRequest(request)) }));

  app.get<{ Params: { tokenId: string } }>('/v1/quorum/requests/:tokenId', {
    schema: { summary: 'One request, with everything its digest covers (officers, auditors, its requester)', tags: TAGS, params: tokenParams, response: withErrors({ 200: tokenSchema }) },
  }, async (request) => showQuorumToken(services.quorum(), callerOfRequest(request), request.params.tokenId));

  app.post<{ Params: { tokenId: string }; Body: { signature: string } }>('/v1/quorum/requests/:tokenId/approvals', {
    schema: {
      summary: 'Approve a request with a signature of "coffer/quorum/v1" ‖ digest by your approval key (officers)', tags: TAGS, params: tokenParams,
      body: { type: 'object', additionalProperties: false, required: ['signature'], properties: { signature: { ...base64Schema('Ed25519 or DER ECDSA signature'), maxLength: 1024 } } },
      response: withErrors({ 200: tokenSchema }),
    },
  }, async (request) => services.quorum().approve(request.params.tokenId, callerOfRequest(request), decodeBase64Field(request.body.signature, 'signature')));

  app.post<{ Params: { tokenId: string }; Body: { parameters: QuorumParameters; secret?: QuorumSecret } }>('/v1/quorum/requests/:tokenId/apply', {
    schema: {
      summary: 'Spend an approved request once (its requester): runs the operation and returns its result', tags: TAGS, params: tokenParams,
      body: { type: 'object', additionalProperties: false, required: ['parameters'], properties: { parameters: parametersSchema, secret: secretSchema } },
      response: withErrors({ 200: appliedSchema }),
    },
  }, async (request) => services.quorum().apply(callerOfRequest(request), request.params.tokenId, request.body.parameters, request.body.secret));
}
