// /v1/cluster/join-tokens: an officer issues a single-use join token for a new node (shown once).
// Where the quorum policy covers node.admit, the direct form is refused (QUORUM_REQUIRED, audited):
// the token is then issued by applying an approved node.admit quorum token.
import type { FastifyInstance } from 'fastify';
import { issueJoinToken } from '../join-wiring.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { TIMESTAMP, withErrors } from './schemas.ts';

const NODE_NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'Only a node with this name (its nodeId) may use the token' } as const;

const issueBody = {
  type: 'object', additionalProperties: false,
  properties: {
    nodeName: NODE_NAME,
    expiresInSeconds: { type: 'integer', minimum: 60, maximum: 86_400, description: 'Lifetime, 60 s to 24 h (default 600)' },
  },
} as const;

const issuedSchema = {
  type: 'object', additionalProperties: false, required: ['tokenId', 'token', 'expiresAt'],
  properties: {
    tokenId: { type: 'string', description: 'Names the token in the audit; not a secret' },
    token: { type: 'string', description: 'The join token (base64url, 32 bytes): shown once, never stored' },
    expiresAt: TIMESTAMP,
    nodeName: NODE_NAME,
  },
} as const;

export function joinRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: { nodeName?: string; expiresInSeconds?: number } }>('/v1/cluster/join-tokens', {
    // The body is optional (all defaults): no body validates as an empty object.
    preValidation: (request, _reply, done) => {
      const body: unknown = request.body;
      if (body === undefined) request.body = {};
      done();
    },
    schema: { summary: 'Issue a single-use join token for a new cluster node (officers)', tags: ['cluster'], body: issueBody, response: withErrors({ 201: issuedSchema }) },
  }, async (request, reply) => {
    const caller = callerOfRequest(request);
    await ctx.services.quorum().requireUnguarded(caller, 'node.admit', { operation: 'cluster.join-token.issue' });
    const issued = await issueJoinToken(ctx.services.node, caller, request.body);
    return reply.code(201).send(issued);
  });
}
