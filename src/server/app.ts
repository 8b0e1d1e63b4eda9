// The API app factory: a Fastify instance with request ids, the sealed gate, authentication, the
// one error format, metrics and one log line per request, and the /v1 routes. It does not listen,
// so tests drive it with inject() and startNode() serves it over mutual TLS.
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { CofferError } from '../core/errors.ts';
import { callerOf } from './identity/identity-types.ts';
import { authenticate, type TestAuthenticator } from './authentication.ts';
import { CONFIG_DEFAULTS, type LogLevel } from './config.ts';
import { errorBody, toHttpError } from './http-errors.ts';
import { installIdempotency } from './idempotency.ts';
import type { NodeServices } from './node-services.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.ts';
import { RouteCatalogue } from './route-catalogue.ts';
import './request-context.ts';
import { authRoutes } from './v1/auth-routes.ts';
import { backupRoutes } from './v1/backup-routes.ts';
import { clusterRoutes } from './v1/cluster-routes.ts';
import { cryptoRoutes } from './v1/crypto-routes.ts';
import { domainRoutes } from './v1/domain-routes.ts';
import { keyRoutes } from './v1/key-routes.ts';
import { keyTransportRoutes } from './v1/key-transport-routes.ts';
import { principalRoutes, projectRoutes } from './v1/principal-routes.ts';
import { keyUseRoutes } from './v1/key-use-routes.ts';
import { joinRoutes } from './v1/join-routes.ts';
import { quorumRoutes } from './v1/quorum-routes.ts';
import { pkiRoutes } from './v1/pki-routes.ts';
import { tsaRoutes } from './v1/tsa-routes.ts';
import type { RouteContext, RouteLimits } from './v1/route-context.ts';
import { MAX_INLINE_BACKUP_BYTES, vssmRoutes } from './vssm/index.ts';

export interface AppOptions {
  readonly limits?: Partial<RouteLimits> & { readonly requestTimeoutMs?: number };
  /** false (tests) or pino options; a stream receives the JSON lines instead of stdout. */
  readonly logger?: false | { readonly level: LogLevel; readonly stream?: { write(line: string): void } };
  /** Serve over TLS with these options (startNode); without them the app is plain, for inject(). */
  readonly https?: HttpsServerOptions;
  /** Tests only: see TestAuthenticator. */
  readonly testAuthenticator?: TestAuthenticator;
}

/** Codes that are not faults of this node: expected operational answers, logged at info. */
const EXPECTED_5XX = new Set(['DOMAIN_SEALED', 'DOMAIN_UNINITIALIZED', 'STORE_UNAVAILABLE', 'NOT_IMPLEMENTED']);

function sealedError(services: NodeServices): CofferError {
  return services.node.state === 'UNINITIALIZED'
    ? new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised')
    : new CofferError('DOMAIN_SEALED', 'the node is sealed');
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: CofferError): FastifyReply {
  request.errorCode = error.code;
  return reply.code(error.status).type('application/json; charset=utf-8').send(errorBody(error));
}

function loggerOptions(logger: AppOptions['logger']): false | Record<string, unknown> {
  if (logger === false) return false;
  const level = logger?.level ?? CONFIG_DEFAULTS.logLevel;
  return {
    level,
    // Belt and braces: request objects are never logged, but a credential must not reach a log even then.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    ...(logger?.stream === undefined ? {} : { stream: logger.stream }),
  };
}

function fastifyFor(options: AppOptions, bodyLimit: number): FastifyInstance {
  const base = {
    logger: loggerOptions(options.logger),
    // One line per request comes from the onResponse hook below, not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdFor,
    requestIdHeader: false as const,
    bodyLimit,
    requestTimeout: options.limits?.requestTimeoutMs ?? CONFIG_DEFAULTS.requestTimeoutMs,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    // Strict validation: unknown properties are errors (a mistyped "context" must not be dropped
    // silently), and types are not coerced; query numbers are declared as digit strings instead.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    // Names are up to 128 characters; the schemas, not the router, should be the ones to refuse.
    routerOptions: { maxParamLength: 256 },
    // URLs the router cannot decode, or parameters past the limit, get the same error shape.
    frameworkErrors: (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'the URL is malformed';
      void reply.header(REQUEST_ID_HEADER, request.id);
      return sendError(request, reply, new CofferError('MALFORMED_REQUEST', message, { cause: error }));
    },
  };
  // With https the socket is a TLSSocket, which authentication checks at run time.
  return options.https === undefined ? Fastify(base) : Fastify({ ...base, https: options.https });
}

/**
 * JSON only: a text/plain body is refused as UNSUPPORTED_MEDIA_TYPE rather than parsed as a string.
 * An empty body declared as JSON counts as no body (many clients send the header on every POST);
 * anything else goes to Fastify's parser, which refuses prototype poisoning. Returns that parser for
 * other content types that carry JSON. Shared with the signing service's app.
 */
export function installJsonParser(app: FastifyInstance): ReturnType<FastifyInstance['getDefaultJsonParser']> {
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    // The default parser is callback style: it reports through `done`, never a promise.
    void json(request, text, done);
  });
  return json;
}

export function createApp(services: NodeServices, options: AppOptions = {}): FastifyInstance {
  const limits: RouteLimits = {
    bodyBytes: options.limits?.bodyBytes ?? CONFIG_DEFAULTS.bodyBytes,
    batchBodyBytes: options.limits?.batchBodyBytes ?? CONFIG_DEFAULTS.batchBodyBytes,
    batchConcurrency: options.limits?.batchConcurrency ?? CONFIG_DEFAULTS.batchConcurrency,
    inlineBackupBytes: options.limits?.inlineBackupBytes ?? MAX_INLINE_BACKUP_BYTES,
  };
  const app = fastifyFor(options, limits.bodyBytes);
  const catalogue = new RouteCatalogue();
  catalogue.attach(app);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('caller', undefined);
  app.decorateRequest('errorCode', undefined);
  const json = installJsonParser(app);
  // The VSSM seed's own example is `curl -d '{…}'`, which labels its JSON body as a form. VSSM routes
  // accept that from non-browser clients only: a browser always sends Origin or Sec-Fetch-Site on a
  // cross-site form post, so a web page cannot use a visitor's client certificate to sign or decrypt.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    const fromBrowser = request.headers.origin !== undefined || request.headers['sec-fetch-site'] !== undefined;
    if (!request.url.startsWith('/REST/v1/') || fromBrowser) {
      done(new CofferError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json'), undefined);
      return;
    }
    const text = typeof body === 'string' ? body : body.toString('utf8');
    void json(request, text, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id).header('cache-control', 'no-store');
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.whileSealed !== true && services.node.state !== 'UNSEALED') throw sealedError(services);
    if (config.auth === 'none') return;
    const principal = await authenticate(request, services, options.testAuthenticator);
    request.principal = principal;
    request.caller = callerOf(principal, request.id);
  });

  // A route that declares no body takes none: a JSON body there is unknown fields, refused like any
  // other rather than ignored (`{"version":5}` sent to /rotate must not rotate silently). An empty
  // object names no field and passes.
  app.addHook('preValidation', (request, _reply, done) => {
    const body: unknown = request.body;
    const none = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
    const raw = request.routeOptions.config.rawBody === true && Buffer.isBuffer(body);
    if (none || raw || request.is404 || request.routeOptions.schema?.body !== undefined) done();
    else done(new CofferError('MALFORMED_REQUEST', 'this endpoint takes no request body'));
  });

  // Writes carrying an Idempotency-Key run once per principal and key (idempotency.ts).
  installIdempotency(app, services);

  app.addHook('onResponse', async (request, reply) => {
    const operation = request.is404 ? 'unmatched' : `${request.method} ${request.routeOptions.url ?? ''}`;
    const outcome = request.errorCode ?? (reply.statusCode < 400 ? 'OK' : String(reply.statusCode));
    services.metrics.observe(operation, outcome, reply.elapsedTime / 1000);
    request.log.info({
      principal: request.principal?.name, operation, status: reply.statusCode, code: request.errorCode, durationMs: Math.round(reply.elapsedTime * 100) / 100,
    }, 'request');
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = toHttpError(error);
    if (mapped.status >= 500 && !EXPECTED_5XX.has(mapped.code)) {
      // The detail stays here, under the request id; the client sees only the code and a generic message.
      request.log.error({ err: mapped.cause ?? mapped, code: mapped.code }, 'request failed');
    }
    return sendError(request, reply, mapped);
  });

  app.setNotFoundHandler((request, reply) => {
    const allowed = catalogue.methodsFor(request.url);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      return sendError(request, reply, new CofferError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allowed.join(', ')}`));
    }
    return sendError(request, reply, new CofferError('ROUTE_NOT_FOUND', 'no such endpoint'));
  });

  const context: RouteContext = { services, limits };
  domainRoutes(app, context);
  authRoutes(app, context);
  principalRoutes(app, context);
  projectRoutes(app, context);
  keyRoutes(app, context);
  keyTransportRoutes(app, context);
  pkiRoutes(app, context);
  tsaRoutes(app, context);
  quorumRoutes(app, context);
  keyUseRoutes(app, context);
  joinRoutes(app, context);
  cryptoRoutes(app, context);
  clusterRoutes(app, context);
  backupRoutes(app, context);
  vssmRoutes(app, context);

  let document: Record<string, unknown> | undefined;
  app.get('/v1/openapi.json', {
    schema: { summary: 'This document', tags: ['meta'], response: { 200: { type: 'object', additionalProperties: true } } },
    config: { auth: 'none', whileSealed: true },
  }, () => (document ??= buildOpenApiDocument(catalogue.routes, { title: 'Coffer', version: services.version })));

  return app;
}
