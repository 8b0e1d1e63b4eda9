// The OpenAPI 3.1 document of the native API, generated from the schemas the routes registered with,
// so the document cannot drift from what the server validates and serialises.
import type { RouteRecord } from './route-catalogue.ts';

type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function parameters(schema: JsonObject | undefined, where: 'path' | 'query'): JsonObject[] {
  const properties = asObject(schema?.['properties']) ?? {};
  const required = Array.isArray(schema?.['required']) ? (schema['required'] as unknown[]) : [];
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = asObject(property) ?? {};
    return {
      name,
      in: where,
      required: where === 'path' || required.includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function responses(schema: JsonObject | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [status, body] of Object.entries(schema ?? {})) {
    const key = status.replace('xx', 'XX');
    const bodySchema = asObject(body);
    const description = typeof bodySchema?.['description'] === 'string' ? bodySchema['description'] : status.startsWith('2') ? 'Success' : 'Error: {"error":{"code","message"}}';
    out[key] = status === '204' || bodySchema === undefined || Object.keys(bodySchema).length === 0
      ? { description }
      : { description, content: { 'application/json': { schema: bodySchema } } };
  }
  return out;
}

function operation(route: RouteRecord): JsonObject {
  const s = route.schema;
  const body = asObject(s['body']);
  const params = [...parameters(asObject(s['params']), 'path'), ...parameters(asObject(s['querystring']), 'query')];
  return {
    ...(typeof s['summary'] === 'string' ? { summary: s['summary'] } : {}),
    ...(typeof s['description'] === 'string' ? { description: s['description'] } : {}),
    ...(Array.isArray(s['tags']) ? { tags: s['tags'] } : {}),
    operationId: `${route.method.toLowerCase()}${route.url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: body } } } }),
    responses: responses(asObject(s['response'])),
    ...(route.auth === 'none' ? { security: [] } : {}),
    ...(route.whileSealed ? { 'x-coffer-while-sealed': true } : {}),
  };
}

/** Builds the document for the routes under `prefix` (HEAD routes are implied by GET and left out). */
export function buildOpenApiDocument(routes: readonly RouteRecord[], info: { title: string; version: string }, prefix = '/v1/'): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    if (route.method === 'HEAD' || !route.url.startsWith(prefix)) continue;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: { ...info, description: 'The Coffer native API. Binary values are standard base64; errors are {"error":{"code","message"}}.' },
    components: {
      securitySchemes: {
        mutualTLS: { type: 'mutualTLS', description: 'A client certificate issued by the configured client CA and bound to a principal.' },
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from POST /v1/auth/login.' },
      },
    },
    security: [{ mutualTLS: [] }, { bearer: [] }],
    paths,
  };
}
