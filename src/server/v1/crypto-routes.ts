// /v1/crypto/<operation> and /v1/crypto/<operation>/batch, built from the CRYPTO_REQUESTS table.
// A batch answers one result per item, in order; each item is authorised and audited on its own.
import type { FastifyInstance } from 'fastify';
import { runBatch } from '../batch-runner.ts';
import { ERROR_BODY_SCHEMA, errorBody } from '../http-errors.ts';
import { callerOfRequest } from '../request-context.ts';
import { CRYPTO_REQUESTS } from './crypto-requests.ts';
import type { RouteContext } from './route-context.ts';
import { withErrors } from './schemas.ts';

/** Items per batch: large enough to amortise a round trip, small enough to answer within a second. */
export const MAX_BATCH_ITEMS = 1000;

export function cryptoRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const tags = ['crypto'];
  for (const op of CRYPTO_REQUESTS) {
    const body = { type: 'object', additionalProperties: false, required: op.body.required, properties: op.body.properties };
    const result = { type: 'object', additionalProperties: false, required: op.result.required, properties: op.result.properties };
    app.post(`/v1/crypto/${op.name}`, {
      schema: { summary: op.summary, tags, body, response: withErrors({ 200: result }) },
    }, (request) => op.run(ctx.services.engine, callerOfRequest(request), request.body));

    if (!op.batch) continue;
    const itemResult = {
      type: 'object',
      additionalProperties: false,
      required: ['ok'],
      description: 'Either ok:true with the result fields, or ok:false with error',
      properties: { ok: { type: 'boolean' }, ...op.result.properties, error: ERROR_BODY_SCHEMA.properties.error },
    };
    app.post<{ Body: { items: unknown[] } }>(`/v1/crypto/${op.name}/batch`, {
      bodyLimit: ctx.limits.batchBodyBytes,
      schema: {
        summary: `${op.summary} — up to ${MAX_BATCH_ITEMS} items`,
        tags,
        body: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', minItems: 1, maxItems: MAX_BATCH_ITEMS, items: body } } },
        response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['results'], properties: { results: { type: 'array', items: itemResult } } } }),
      },
    }, async (request) => {
      const caller = callerOfRequest(request);
      const engine = ctx.services.engine;
      const outcomes = await runBatch(request.body.items, ctx.limits.batchConcurrency, (item) => op.run(engine, caller, item));
      outcomes.forEach((o, item) => {
        if (!o.ok && o.error.code === 'INTERNAL_ERROR') request.log.error({ err: o.error.cause ?? o.error, item }, 'batch item failed');
      });
      return { results: outcomes.map((o) => (o.ok ? { ok: true, ...o.value } : { ok: false, ...errorBody(o.error) })) };
    });
  }
}
