// The plain-HTTP health port: a VSSM-style liveness check, a JSON health document and Prometheus
// metrics. It carries no secrets and no principal, so it needs no TLS; keep it on a private network.
import Fastify, { type FastifyInstance } from 'fastify';
import { CofferError } from '../core/errors.ts';
import { errorBody } from './http-errors.ts';
import { NodeMetrics } from './node-metrics.ts';
import type { NodeServices } from './node-services.ts';

export function createHealthApp(services: NodeServices, options: { keyCountCap?: number } = {}): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  const metrics = new NodeMetrics(services, options);

  app.get('/REST/v1/healthcheck', async (_request, reply) => {
    const state = services.node.state;
    return reply.code(state === 'UNSEALED' ? 200 : 503).type('text/plain; charset=utf-8').send(state === 'UNSEALED' ? 'running' : state);
  });

  // Always 200: it reports the state; the healthcheck above is what load balancers gate on.
  app.get('/v1/health', {
    schema: {
      response: {
        200: { type: 'object', additionalProperties: false, required: ['state', 'nodeId', 'version'], properties: { state: { type: 'string' }, nodeId: { type: 'string' }, version: { type: 'string' } } },
      },
    },
  }, () => ({ state: services.node.state, nodeId: services.node.nodeId, version: services.version }));

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.render()));

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody(new CofferError('ROUTE_NOT_FOUND', 'no such endpoint'))));
  app.setErrorHandler((error, _request, reply) => {
    const mapped = error instanceof CofferError ? error : new CofferError('INTERNAL_ERROR', 'internal error', { cause: error });
    return reply.code(mapped.status).send(errorBody(mapped));
  });
  return app;
}
