// /v1/keys: create (or import wrapped material), list, describe, update, life-cycle actions, sharing
// and public keys. The engine authorises and audits every call; routes parse and format only (and
// hand the engine the directory's check that a grantee exists).
import type { FastifyInstance } from 'fastify';
import type { Caller, GranteeCheck, KeyMetadata } from '../../core/engine/index.ts';
import { KEY_SPECS, KEY_STATES, type KeySpec, type KeyState } from '../../core/key-record.ts';
import { decodeBase64Field, encodeBase64, base64Schema } from '../base64-field.ts';
import { parseKeyRef } from '../key-ref.ts';
import { defaultProjectOf, listKeys } from '../key-listing.ts';
import { callerOfRequest, principalOf } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { approvalPolicySchema, KEY_REF_PATTERN, keyIdParams, keyMetadataSchema, nameSchema, stringMap, withErrors } from './schemas.ts';

const TAGS = ['keys'];
const METADATA = withErrors({ 200: keyMetadataSchema });
const ALGORITHM_NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['project', 'name', 'spec', 'usage'],
  properties: {
    project: nameSchema('Project the key belongs to'),
    name: nameSchema('Key name, unique in its project'),
    spec: { ...ALGORITHM_NAME, description: 'AES_256, HMAC_256, RSA_2048, EC_P256, ED25519, ML_DSA_65, …' },
    usage: { ...ALGORITHM_NAME, description: 'ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, WRAP_UNWRAP' },
    description: { type: 'string', maxLength: 1024 },
    tags: stringMap('Up to 50 tags'),
    exportable: { type: 'boolean', description: 'Default false; can later only be turned off' },
    approval: { ...approvalPolicySchema, description: 'M of N approvers for every guarded use (sign, decrypt, unwrap, export); sealed: the material needs their shares' },
    import: {
      type: 'object',
      additionalProperties: false,
      required: ['wrappingKeyId', 'wrappingAlgorithm', 'wrappedMaterial'],
      description: 'Import material wrapped under one of your WRAP_UNWRAP keys instead of generating it',
      properties: {
        wrappingKeyId: { type: 'string', pattern: KEY_REF_PATTERN },
        wrappingAlgorithm: { ...ALGORITHM_NAME, description: 'AES_KWP, RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256' },
        wrappedMaterial: base64Schema('Raw bytes (symmetric) or PKCS#8 DER (asymmetric), wrapped'),
      },
    },
  },
} as const;

interface CreateBody {
  project: string; name: string; spec: string; usage: string; description?: string; tags?: Record<string, string>; exportable?: boolean; approval?: unknown;
  import?: { wrappingKeyId: string; wrappingAlgorithm: string; wrappedMaterial: string };
}

function createOrImport(ctx: RouteContext, caller: Caller, body: CreateBody): Promise<KeyMetadata> {
  const { import: wrapped, ...input } = body;
  // Only a policy needs the key-use service (approvers' keys, sealing); keys without one do not wait for it.
  const hooks = input.approval === undefined ? undefined : ctx.services.keyUse().hooks;
  if (wrapped === undefined) return ctx.services.engine.keys.create(caller, input, hooks);
  return ctx.services.engine.keys.import(caller, {
    ...input,
    wrappingKey: parseKeyRef(wrapped.wrappingKeyId),
    wrappingAlgorithm: wrapped.wrappingAlgorithm,
    wrappedMaterial: decodeBase64Field(wrapped.wrappedMaterial, 'import.wrappedMaterial'),
  }, hooks);
}

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    project: nameSchema("Project to list (default: the caller's default project)"),
    state: { type: 'string', enum: KEY_STATES },
    spec: { type: 'string', enum: KEY_SPECS },
    after: nameSchema('The `next` cursor of the previous page'),
    limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'Page size, 1-1000 (default 100)' },
  },
} as const;

const publicKeySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['keyId', 'keyVersion', 'spec', 'der', 'pem'],
  properties: { keyId: { type: 'string' }, keyVersion: { type: 'integer' }, spec: { type: 'string' }, der: { type: 'string', description: 'SPKI DER, base64' }, pem: { type: 'string' } },
} as const;

type Action = 'rotate' | 'enable' | 'disable' | 'cancel-deletion';

export function keyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const engine = () => ctx.services.engine;
  // Grants are held by name: only a live principal may receive one, or whoever later took the name
  // would hold it. The engine asks once the caller may manage the key, and audits the refusal.
  const requireGrantee: GranteeCheck = async (name) => (await ctx.services.directory()).requireActivePrincipal(name);

  app.post<{ Body: CreateBody }>('/v1/keys', {
    schema: { summary: 'Create a key (or import wrapped material); the caller owns it', tags: TAGS, body: createBody, response: withErrors({ 201: keyMetadataSchema }) },
  }, async (request, reply) => reply.code(201).send(await createOrImport(ctx, callerOfRequest(request), request.body)));

  app.get<{ Querystring: { project?: string; state?: KeyState; spec?: KeySpec; after?: string; limit?: string } }>('/v1/keys', {
    schema: {
      summary: "List a project's keys by name, with optional filters", tags: TAGS, querystring: listQuery,
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['keys'], properties: { keys: { type: 'array', items: keyMetadataSchema }, next: { type: 'string' } } } }),
    },
  }, (request) => {
    const { limit, project, ...filters } = request.query;
    const query = { ...filters, limit: limit === undefined ? 100 : Number(limit) };
    return listKeys(engine(), callerOfRequest(request), defaultProjectOf(principalOf(request), project), query);
  });

  app.get<{ Params: { keyId: string } }>('/v1/keys/:keyId', {
    schema: { summary: "A key's metadata (never its material)", tags: TAGS, params: keyIdParams, response: METADATA },
  }, (request) => engine().keys.describe(callerOfRequest(request), request.params.keyId));

  app.get<{ Params: { project: string; name: string } }>('/v1/projects/:project/keys/:name', {
    schema: {
      summary: 'A key by project and name', tags: TAGS,
      params: { type: 'object', additionalProperties: false, required: ['project', 'name'], properties: { project: nameSchema('Project'), name: nameSchema('Key name') } },
      response: METADATA,
    },
  }, (request) => engine().keys.describe(callerOfRequest(request), { project: request.params.project, name: request.params.name }));

  app.patch<{ Params: { keyId: string }; Body: { description?: string; tags?: Record<string, string>; exportable?: boolean } }>('/v1/keys/:keyId', {
    schema: {
      summary: 'Change description or tags, or remove exportability', tags: TAGS, params: keyIdParams,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: { description: { type: 'string', maxLength: 1024 }, tags: stringMap('Replaces all tags'), exportable: { type: 'boolean', const: false } },
      },
      response: METADATA,
    },
  }, (request) => engine().keys.update(callerOfRequest(request), request.params.keyId, request.body));

  const actions: Record<Action, { summary: string; run: (caller: Caller, keyId: string) => Promise<KeyMetadata> }> = {
    rotate: { summary: 'Add a new version; older versions still decrypt and verify', run: (c, id) => engine().keys.rotate(c, id) },
    enable: { summary: 'Enable a disabled key', run: (c, id) => engine().keys.enable(c, id) },
    disable: { summary: 'Disable a key (refuses every use until enabled)', run: (c, id) => engine().keys.disable(c, id) },
    'cancel-deletion': { summary: 'Cancel a scheduled deletion; the key comes back DISABLED', run: (c, id) => engine().keys.cancelDeletion(c, id) },
  };
  for (const [action, { summary, run }] of Object.entries(actions)) {
    app.post<{ Params: { keyId: string } }>(`/v1/keys/:keyId/${action}`, {
      schema: { summary, tags: TAGS, params: keyIdParams, response: METADATA },
    }, (request) => run(callerOfRequest(request), request.params.keyId));
  }

  app.post<{ Params: { keyId: string }; Body: { waitingDays?: number } }>('/v1/keys/:keyId/schedule-deletion', {
    // The body is optional (all defaults): no body validates as an empty object.
    preValidation: (request, _reply, done) => {
      const body: unknown = request.body;
      if (body === undefined) request.body = {};
      done();
    },
    schema: {
      summary: 'Schedule destruction after 7-30 days (default 30)', tags: TAGS, params: keyIdParams,
      body: { type: 'object', additionalProperties: false, properties: { waitingDays: { type: 'integer', minimum: 7, maximum: 30 } } },
      response: METADATA,
    },
  }, async (request) => {
    const caller = callerOfRequest(request);
    // Under a quorum policy for key.delete, deletion runs only through a quorum token (QUORUM_REQUIRED here).
    await ctx.services.quorum().requireUnguarded(caller, 'key.delete', { operation: 'key.schedule-deletion', target: request.params.keyId });
    return engine().keys.scheduleDeletion(caller, request.params.keyId, request.body.waitingDays);
  });

  app.put<{ Params: { keyId: string }; Body: { approval: unknown } }>('/v1/keys/:keyId/approval', {
    schema: {
      summary: 'Add an approval policy to a key that has none (its owner); changing or removing one is a key-use request (change-approvers)', tags: TAGS, params: keyIdParams,
      body: { type: 'object', additionalProperties: false, required: ['approval'], properties: { approval: approvalPolicySchema } },
      response: METADATA,
    },
  }, (request) => engine().keys.changeApprovers(callerOfRequest(request), request.params.keyId, request.body.approval, ctx.services.keyUse().hooks));

  app.post<{ Params: { keyId: string }; Body: { version: number } }>('/v1/keys/:keyId/min-decrypt-version', {
    schema: {
      summary: 'Refuse decryption and verification below this version', tags: TAGS, params: keyIdParams,
      body: { type: 'object', additionalProperties: false, required: ['version'], properties: { version: { type: 'integer', minimum: 1 } } },
      response: METADATA,
    },
  }, (request) => engine().keys.setMinDecryptVersion(callerOfRequest(request), request.params.keyId, request.body.version));

  app.post<{ Params: { keyId: string }; Body: { principal: string } }>('/v1/keys/:keyId/shares', {
    schema: {
      summary: 'Let another principal use the key (never manage it)', tags: TAGS, params: keyIdParams,
      body: { type: 'object', additionalProperties: false, required: ['principal'], properties: { principal: nameSchema('Principal name') } },
      response: METADATA,
    },
  }, (request) => engine().keys.share(callerOfRequest(request), request.params.keyId, request.body.principal, requireGrantee));

  app.delete<{ Params: { keyId: string; principal: string } }>('/v1/keys/:keyId/shares/:principal', {
    schema: {
      summary: "Revoke a principal's use of the key", tags: TAGS,
      params: { type: 'object', additionalProperties: false, required: ['keyId', 'principal'], properties: { ...keyIdParams.properties, principal: nameSchema('Principal name') } },
      response: METADATA,
    },
  }, (request) => engine().keys.unshare(callerOfRequest(request), request.params.keyId, request.params.principal));

  app.get<{ Params: { keyId: string }; Querystring: { version?: string } }>('/v1/keys/:keyId/public-key', {
    schema: {
      summary: 'The public key (SPKI) of an asymmetric key version', tags: TAGS, params: keyIdParams,
      querystring: { type: 'object', additionalProperties: false, properties: { version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } } },
      response: withErrors({ 200: publicKeySchema }),
    },
  }, async (request) => {
    const { version } = request.query;
    const result = await engine().crypto.getPublicKey(callerOfRequest(request), request.params.keyId, version === undefined ? {} : { version: Number(version) });
    return { keyId: result.keyId, keyVersion: result.keyVersion, spec: result.spec, der: encodeBase64(result.der), pem: result.pem };
  });
}
