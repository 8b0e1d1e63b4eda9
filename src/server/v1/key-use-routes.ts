// /v1/key-use: approvers register their keys; requesters ask for a guarded use of a key (sign,
// decrypt, export, unwrap, rotate, change-approvers) and fetch its result; listed approvers fetch
// their share (sealed keys) and approve or reject with signatures made on their own machines. The
// key-use service authorises and audits each call; routes parse and format only.
import type { FastifyInstance } from 'fastify';
import { MAX_WAIT_SECONDS, type KeyUseInput, type KeyUseOutcome, type KeyUseResult, MAX_REQUEST_LIFETIME_SECONDS, MIN_REQUEST_LIFETIME_SECONDS } from '../../approvals/key-use/index.ts';
import { KEY_USES } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import { base64Schema, decodeBase64Field, encodeBase64 } from '../base64-field.ts';
import { parseKeyRef } from '../key-ref.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { approvalPolicySchema, KEY_REF_PATTERN, nameSchema, stringMap, TIMESTAMP, UUID_PATTERN, withErrors } from './schemas.ts';

const TAGS = ['key-use'];
/** A PEM SPKI of either supported algorithm is a few hundred characters; the bound leaves room. */
const MAX_PUBLIC_KEY_CHARS = 8192;
const BASE64URL_PATTERN = '^[A-Za-z0-9_-]+$';

const requestParams = {
  type: 'object', additionalProperties: false, required: ['requestId'],
  properties: { requestId: { type: 'string', pattern: UUID_PATTERN, description: 'Key-use request id (uuid)' } },
} as const;

/** A key id or project/name string, or {project, name}. */
const keyRefSchema = {
  anyOf: [
    { type: 'string', pattern: KEY_REF_PATTERN },
    { type: 'object', additionalProperties: false, required: ['project', 'name'], properties: { project: nameSchema('Project'), name: nameSchema('Key name') } },
  ],
} as const;

const approverKeysSchema = {
  type: 'object', additionalProperties: false, required: ['principal', 'signingAlgorithm', 'signingFingerprint', 'registeredAt'],
  properties: {
    principal: { type: 'string' }, signingAlgorithm: { type: 'string' }, signingFingerprint: { type: 'string', description: 'SHA-256 of the SPKI DER, lowercase hex' },
    shareKey: { type: 'string', description: 'Raw X25519 public key, base64url' }, registeredAt: TIMESTAMP,
  },
} as const;

const hpkeBox = {
  type: 'object', additionalProperties: false, required: ['enc', 'ciphertext'],
  properties: { enc: { type: 'string', pattern: BASE64URL_PATTERN, maxLength: 64 }, ciphertext: { type: 'string', pattern: BASE64URL_PATTERN, maxLength: 256 } },
} as const;

const viewSchema = {
  type: 'object', additionalProperties: false,
  required: ['requestId', 'use', 'keyId', 'keyVersion', 'inputDigest', 'requester', 'createdAt', 'expiresAt', 'threshold', 'approvers', 'metadata', 'digest', 'project', 'sealed', 'rejectionEnds', 'status', 'approvals', 'rejections'],
  properties: {
    requestId: { type: 'string' }, use: { type: 'string' }, keyId: { type: 'string' }, keyVersion: { type: 'integer' }, inputDigest: { type: 'string' },
    requester: { type: 'string' }, createdAt: TIMESTAMP, expiresAt: TIMESTAMP, threshold: { type: 'integer' }, approvers: { type: 'array', items: { type: 'string' } },
    metadata: stringMap('Metadata bound into the digest'), ephemeralPublicKey: { type: 'string', description: 'Sealed keys: raw X25519, base64url' },
    digest: { type: 'string', description: 'SHA-256 of the RFC 8785 binding, lowercase hex' }, project: { type: 'string' }, sealed: { type: 'boolean' }, rejectionEnds: { type: 'boolean' },
    status: { type: 'string', enum: ['pending', 'running', 'completed', 'failed', 'rejected', 'expired'] },
    approvals: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['approver', 'approvedAt'], properties: { approver: { type: 'string' }, approvedAt: TIMESTAMP } } },
    rejections: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['approver', 'rejectedAt'], properties: { approver: { type: 'string' }, rejectedAt: TIMESTAMP, reason: { type: 'string' } } },
    },
    completedAt: TIMESTAMP,
    error: { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

const shareSchema = {
  type: 'object', additionalProperties: false, required: ['requestId', 'keyId', 'approver', 'ephemeralPublicKey', 'digest', 'share'],
  properties: {
    requestId: { type: 'string' }, keyId: { type: 'string' }, approver: { type: 'string' }, ephemeralPublicKey: { type: 'string' }, digest: { type: 'string' },
    share: { type: 'object', additionalProperties: false, required: ['enc', 'ciphertext'], properties: { enc: { type: 'string' }, ciphertext: { type: 'string' } } },
  },
} as const;

const outcomeSchema = {
  type: 'object', additionalProperties: false, required: ['status'],
  properties: {
    status: { type: 'string' },
    result: {
      type: 'object', additionalProperties: false, description: 'As the direct route answers (bytes base64)',
      properties: {
        signature: { type: 'string' }, plaintext: { type: 'string' }, wrappedKey: { type: 'string' }, keyId: { type: 'string' }, keyVersion: { type: 'integer' },
        algorithm: { type: 'string' }, wrappingKeyId: { type: 'string' }, wrappingKeyVersion: { type: 'integer' }, targetKeyId: { type: 'string' },
        targetKeyVersion: { type: 'integer' }, currentVersion: { type: 'integer' },
      },
    },
    error: { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/** One flat body for every use; the service refuses fields a use does not take. */
const requestBody = {
  type: 'object', additionalProperties: false, required: ['use'],
  properties: {
    use: { type: 'string', enum: KEY_USES },
    key: keyRefSchema, wrappingKey: keyRefSchema,
    algorithm: { type: 'string', minLength: 1, maxLength: 64 }, wrappingAlgorithm: { type: 'string', minLength: 1, maxLength: 64 },
    message: base64Schema('sign: the message (at most 1 MiB; sign larger ones by digest)'), digest: base64Schema('sign: the digest'),
    format: { type: 'string', enum: ['DER', 'RAW'] },
    ciphertext: base64Schema('decrypt: a Coffer ciphertext'), context: stringMap('decrypt: the encryption context'),
    wrappedMaterial: base64Schema('unwrap: the wrapped key material'),
    newKey: {
      type: 'object', additionalProperties: false, required: ['project', 'name', 'spec', 'usage'], description: 'unwrap: the key to create',
      properties: {
        project: nameSchema('Project'), name: nameSchema('Key name'), spec: { type: 'string', minLength: 1, maxLength: 64 }, usage: { type: 'string', minLength: 1, maxLength: 64 },
        description: { type: 'string', maxLength: 1024 }, tags: stringMap('Tags'), exportable: { type: 'boolean' },
      },
    },
    approval: { anyOf: [{ type: 'null' }, approvalPolicySchema], description: 'change-approvers: the new policy, or null for none' },
    expiresInSeconds: { type: 'integer', minimum: MIN_REQUEST_LIFETIME_SECONDS, maximum: MAX_REQUEST_LIFETIME_SECONDS, description: 'Default 3600' },
    metadata: { ...stringMap('Shown to approvers and bound into the digest'), maxProperties: 32 },
  },
} as const;

type Ref = string | { project: string; name: string };
interface RequestBody {
  use: string; key?: Ref; wrappingKey?: Ref; algorithm?: string; wrappingAlgorithm?: string; message?: string; digest?: string; format?: 'DER' | 'RAW';
  ciphertext?: string; context?: Record<string, string>; wrappedMaterial?: string;
  newKey?: { project: string; name: string; spec: string; usage: string; description?: string; tags?: Record<string, string>; exportable?: boolean };
  approval?: unknown; expiresInSeconds?: number; metadata?: Record<string, string>;
}

const FIELDS: Readonly<Record<string, readonly string[]>> = {
  sign: ['key', 'algorithm', 'message', 'digest', 'format'],
  decrypt: ['ciphertext', 'context'],
  export: ['key', 'wrappingKey', 'algorithm'],
  unwrap: ['wrappingKey', 'wrappingAlgorithm', 'wrappedMaterial', 'newKey'],
  rotate: ['key'],
  'change-approvers': ['key', 'approval'],
};
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  sign: ['key', 'algorithm'], decrypt: ['ciphertext'], export: ['key', 'wrappingKey', 'algorithm'],
  unwrap: ['wrappingKey', 'wrappingAlgorithm', 'wrappedMaterial', 'newKey'], rotate: ['key'], 'change-approvers': ['key', 'approval'],
};

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

const ref = (value: Ref | undefined): Ref => (typeof value === 'string' ? parseKeyRef(value) : value ?? '');
const bytes = (value: string | undefined, field: string): Buffer | undefined => (value === undefined ? undefined : decodeBase64Field(value, field));

/** The body as the service's KeyUseInput: only the use's own fields, bytes decoded. */
function inputOf(body: RequestBody): KeyUseInput {
  const allowed = FIELDS[body.use] ?? [];
  const given = Object.keys(body).filter((k) => !['use', 'expiresInSeconds', 'metadata'].includes(k));
  const extra = given.filter((k) => !allowed.includes(k));
  const missing = (REQUIRED[body.use] ?? []).filter((k) => !(k in body));
  if (extra.length > 0 || missing.length > 0) {
    throw invalid(`use ${body.use}: ${extra.length > 0 ? `does not take ${extra.join(', ')}` : `needs ${missing.join(', ')}`}`);
  }
  const opt = <T>(name: string, value: T | undefined): Record<string, T> => (value === undefined ? {} : { [name]: value });
  switch (body.use) {
    case 'sign':
      return { use: 'sign', key: ref(body.key), algorithm: body.algorithm ?? '', ...opt('message', bytes(body.message, 'message')), ...opt('digest', bytes(body.digest, 'digest')), ...opt('format', body.format) };
    case 'decrypt':
      return { use: 'decrypt', ciphertext: bytes(body.ciphertext, 'ciphertext') ?? Buffer.alloc(0), ...opt('context', body.context) };
    case 'export':
      return { use: 'export', key: ref(body.key), wrappingKey: ref(body.wrappingKey), algorithm: body.algorithm ?? '' };
    case 'unwrap':
      return {
        use: 'unwrap', wrappingKey: ref(body.wrappingKey), wrappingAlgorithm: body.wrappingAlgorithm ?? '',
        wrappedMaterial: bytes(body.wrappedMaterial, 'wrappedMaterial') ?? Buffer.alloc(0), newKey: body.newKey ?? { project: '', name: '', spec: '', usage: '' },
      };
    case 'rotate':
      return { use: 'rotate', key: ref(body.key) };
    default:
      return { use: 'change-approvers', key: ref(body.key), approval: body.approval };
  }
}

/** The result as the direct route answers it: bytes standard base64. */
function resultJson(result: KeyUseResult): Record<string, unknown> {
  switch (result.use) {
    case 'sign': return { signature: encodeBase64(result.signature), keyId: result.keyId, keyVersion: result.keyVersion, algorithm: result.algorithm };
    case 'decrypt': return { plaintext: encodeBase64(result.plaintext), keyId: result.keyId, keyVersion: result.keyVersion, algorithm: result.algorithm };
    case 'export': return { wrappedKey: encodeBase64(result.wrappedKey), wrappingKeyId: result.wrappingKeyId, wrappingKeyVersion: result.wrappingKeyVersion, targetKeyId: result.targetKeyId, targetKeyVersion: result.targetKeyVersion };
    default: return { keyId: result.keyId, currentVersion: result.currentVersion };
  }
}

function outcomeJson(outcome: KeyUseOutcome): Record<string, unknown> {
  return { status: outcome.status, ...(outcome.result === undefined ? {} : { result: resultJson(outcome.result) }), ...(outcome.error === undefined ? {} : { error: outcome.error }) };
}

/** SPKI as PEM text goes to the service as text; anything else is base64 DER. */
function signingKeyInput(text: string): string | Buffer {
  return text.trimStart().startsWith('-----BEGIN') ? text : decodeBase64Field(text, 'signingKey');
}

export function keyUseRoutes(app: FastifyInstance, { services }: RouteContext): void {
  const keyUse = () => services.keyUse();

  app.put<{ Body: { signingKey: string; shareKey?: string } }>('/v1/key-use/approver-keys', {
    schema: {
      summary: "Register or replace the caller's approver keys: a signing key (SPKI, Ed25519 or ECDSA P-256) and an X25519 share key for sealed keys", tags: TAGS,
      body: {
        type: 'object', additionalProperties: false, required: ['signingKey'],
        properties: {
          signingKey: { type: 'string', minLength: 1, maxLength: MAX_PUBLIC_KEY_CHARS, description: 'SPKI as PEM, or its DER in standard base64' },
          shareKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'Raw X25519 public key, base64url (43 characters)' },
        },
      },
      response: withErrors({ 200: approverKeysSchema }),
    },
  }, async (request) => {
    const { signingKey, shareKey } = request.body;
    return keyUse().registerApproverKeys(callerOfRequest(request), { signingKey: signingKeyInput(signingKey), ...(shareKey === undefined ? {} : { shareKey }) });
  });

  app.get<{ Params: { principal: string } }>('/v1/key-use/approver-keys/:principal', {
    schema: {
      summary: "A principal's registered approver public keys", tags: TAGS,
      params: { type: 'object', additionalProperties: false, required: ['principal'], properties: { principal: nameSchema('Principal name') } },
      response: withErrors({ 200: approverKeysSchema }),
    },
  }, async (request) => {
    callerOfRequest(request);
    return keyUse().approverKeys(request.params.principal);
  });

  app.post<{ Body: RequestBody }>('/v1/key-use/requests', {
    schema: {
      summary: 'Request a use of a key whose policy requires approvals; it runs once M approvers approve', tags: TAGS,
      body: requestBody, response: withErrors({ 201: viewSchema }),
    },
  }, async (request, reply) => {
    const { expiresInSeconds, metadata } = request.body;
    const options = { ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }), ...(metadata === undefined ? {} : { metadata }) };
    return reply.code(201).send(await keyUse().request(callerOfRequest(request), inputOf(request.body), options));
  });

  app.get<{ Querystring: { role?: 'approver' | 'requester' } }>('/v1/key-use/requests', {
    schema: {
      summary: 'Requests waiting for the caller’s approval (role=approver, default) or the caller’s own requests (role=requester)', tags: TAGS,
      querystring: { type: 'object', additionalProperties: false, properties: { role: { type: 'string', enum: ['approver', 'requester'] } } },
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['requests'], properties: { requests: { type: 'array', items: viewSchema } } } }),
    },
  }, async (request) => ({ requests: await keyUse().list(callerOfRequest(request), request.query.role ?? 'approver') }));

  app.get<{ Params: { requestId: string } }>('/v1/key-use/requests/:requestId', {
    schema: { summary: 'One request with everything its digest covers (requester, approvers, officers, auditors)', tags: TAGS, params: requestParams, response: withErrors({ 200: viewSchema }) },
  }, async (request) => keyUse().show(callerOfRequest(request), request.params.requestId));

  app.get<{ Params: { requestId: string } }>('/v1/key-use/requests/:requestId/share', {
    schema: { summary: "A listed approver's share of a sealed key, sealed to them, and the ephemeral key to release it to", tags: TAGS, params: requestParams, response: withErrors({ 200: shareSchema }) },
  }, async (request) => keyUse().shareFor(callerOfRequest(request), request.params.requestId));

  app.post<{ Params: { requestId: string }; Body: { signature: string; releasedShare?: { enc: string; ciphertext: string } } }>('/v1/key-use/requests/:requestId/approve', {
    schema: {
      summary: 'Approve with a signature of "coffer/key-use/v1/approve" ‖ digest (and, for sealed keys, the released share); the M-th approval runs the use', tags: TAGS, params: requestParams,
      body: {
        type: 'object', additionalProperties: false, required: ['signature'],
        properties: { signature: { ...base64Schema('Ed25519 or DER ECDSA signature'), maxLength: 1024 }, releasedShare: hpkeBox },
      },
      response: withErrors({ 200: viewSchema }),
    },
  }, async (request) => {
    const { signature, releasedShare } = request.body;
    return keyUse().approve(callerOfRequest(request), request.params.requestId, decodeBase64Field(signature, 'signature'), releasedShare);
  });

  app.post<{ Params: { requestId: string }; Body: { signature: string; reason?: string } }>('/v1/key-use/requests/:requestId/reject', {
    schema: {
      summary: 'Reject with a signature of "coffer/key-use/v1/reject" ‖ digest', tags: TAGS, params: requestParams,
      body: {
        type: 'object', additionalProperties: false, required: ['signature'],
        properties: { signature: { ...base64Schema('Ed25519 or DER ECDSA signature'), maxLength: 1024 }, reason: { type: 'string', maxLength: 512 } },
      },
      response: withErrors({ 200: viewSchema }),
    },
  }, async (request) => {
    const { signature, reason } = request.body;
    return keyUse().reject(callerOfRequest(request), request.params.requestId, decodeBase64Field(signature, 'signature'), reason);
  });

  app.get<{ Params: { requestId: string }; Querystring: { waitSeconds?: string } }>('/v1/key-use/requests/:requestId/result', {
    schema: {
      summary: 'The outcome of the caller’s own request; waitSeconds > 0 long-polls until it leaves pending/running', tags: TAGS, params: requestParams,
      querystring: { type: 'object', additionalProperties: false, properties: { waitSeconds: { type: 'string', pattern: '^(?:[0-9]|[1-5][0-9]|60)$', description: `0-${MAX_WAIT_SECONDS}` } } },
      response: withErrors({ 200: outcomeSchema }),
    },
  }, async (request) => {
    const { waitSeconds } = request.query;
    return outcomeJson(await keyUse().outcome(callerOfRequest(request), request.params.requestId, waitSeconds === undefined ? 0 : Number(waitSeconds)));
  });
}
