// /v1/cluster: the live nodes of the cluster, for clients that discover and spread over nodes.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './route-context.ts';
import { TIMESTAMP, withErrors } from './schemas.ts';

const TAGS = ['cluster'];

const nodesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['nodes'],
  properties: {
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['nodeId', 'apiUrl', 'state', 'lastHeartbeat', 'self'],
        properties: {
          nodeId: { type: 'string', description: 'The node id (config nodeId)' },
          apiUrl: { type: 'string', description: 'Its API address; clients still verify its TLS certificate' },
          state: { type: 'string', enum: ['UNINITIALIZED', 'SEALED', 'UNSEALED'] },
          lastHeartbeat: TIMESTAMP,
          self: { type: 'boolean', description: 'True for the node that answered' },
        },
      },
    },
  },
} as const;

export function clusterRoutes(app: FastifyInstance, { services }: RouteContext): void {
  app.get('/v1/cluster/nodes', {
    schema: {
      summary: 'Live nodes: those whose heartbeat is within cluster.deadAfterSeconds', tags: TAGS,
      response: withErrors({ 200: nodesSchema }),
    },
  }, () => services.clusterNodes());
}
