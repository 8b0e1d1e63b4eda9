// /v1/auth: password login for a short-lived bearer token, logout, and who the caller is.
import type { FastifyInstance } from 'fastify';
import { bearerTokenOf, identifyCertificate } from '../authentication.ts';
import { principalOf } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { nameSchema, principalSchema, TIMESTAMP, withErrors } from './schemas.ts';

const TAGS = ['auth'];

const loginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'password'],
  properties: { name: nameSchema('Principal name'), password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

const tokenSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'expiresAt', 'principal'],
  properties: { token: { type: 'string', description: 'Send as "Authorization: Bearer <token>"' }, expiresAt: TIMESTAMP, principal: principalSchema },
} as const;

const identifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['certificate'],
  properties: { certificate: { type: 'string', minLength: 4, maxLength: 65_536, pattern: '^[A-Za-z0-9+/]+={0,2}$', description: 'The client certificate, DER in base64' } },
} as const;

const identitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: { name: { type: 'string' }, role: { type: 'string' } },
} as const;

export function authRoutes(app: FastifyInstance, { services }: RouteContext): void {
  app.post<{ Body: { name: string; password: string } }>('/v1/auth/login', {
    schema: { summary: 'Exchange a name and password for a bearer token', tags: TAGS, body: loginBody, response: withErrors({ 200: tokenSchema }) },
    config: { auth: 'none' },
  }, async (request) => {
    const directory = await services.directory();
    return directory.login(request.body.name, request.body.password, { remoteAddress: request.ip, requestId: request.id });
  });

  app.post('/v1/auth/logout', {
    schema: { summary: 'Revoke the bearer token of this request (no-op for certificates)', tags: TAGS, response: withErrors({ 204: { type: 'null' } }) },
  }, async (request, reply) => {
    const token = bearerTokenOf(request);
    if (token !== undefined) await (await services.directory()).logout(token, request.id);
    return reply.code(204).send();
  });

  // A relying service (the signing service) verified a client's TLS handshake against its own CA and
  // asks who the certificate belongs to: Coffer binds certificates to principals by fingerprint, so
  // it stays the one authority on names. Services only; every answer is journalled.
  app.post<{ Body: { certificate: string } }>('/v1/auth/identify', {
    schema: { summary: 'The active principal a client certificate is bound to (service principals only)', tags: TAGS, body: identifyBody, response: withErrors({ 200: identitySchema }) },
  }, (request) => identifyCertificate(services, principalOf(request), Buffer.from(request.body.certificate, 'base64'), request.id));

  app.get('/v1/auth/whoami', {
    schema: { summary: 'The authenticated principal', tags: TAGS, response: withErrors({ 200: principalSchema }) },
  }, (request) => principalOf(request));
}
