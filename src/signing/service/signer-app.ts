// The signing service's HTTPS API (routes in signer-api.ts): authentication, JSON in and out with
// Coffer's error shape, upload bodies streamed to the upload store, outputs sent as bytes.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { CofferError } from '../../core/errors.ts';
import { installJsonParser } from '../../server/app.ts';
import { errorBody, toHttpError } from '../../server/http-errors.ts';
import { REQUEST_ID_HEADER, requestIdFor } from '../../server/request-id.ts';
import { RouteCatalogue } from '../../server/route-catalogue.ts';
import type { SignerAuthenticator } from './signer-authentication.ts';
import { SIGNING_API_PREFIX } from './signer-api.ts';
import type { SignerCaller, SigningService } from './signing-service.ts';

export interface SignerAppOptions {
  readonly https?: HttpsServerOptions;
  readonly logger?: false | { readonly level?: string; readonly stream?: NodeJS.WritableStream };
  /** Largest JSON body (profiles with their checks are the biggest); default 1 MiB. */
  readonly bodyBytes?: number;
  readonly nodeId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    signerCaller?: SignerCaller;
  }
}

const UPLOAD_MEDIA_TYPES = ['application/offset+octet-stream', 'application/octet-stream'];
const P = SIGNING_API_PREFIX;
const OFFSET = /^(?:0|[1-9][0-9]{0,15})$/;

function callerOf(request: FastifyRequest): SignerCaller {
  const caller = request.signerCaller;
  if (caller === undefined) throw new CofferError('AUTH_REQUIRED', 'present a client certificate or a Coffer bearer token');
  return caller;
}

function params(request: FastifyRequest): Readonly<Record<string, string>> {
  return request.params as Record<string, string>;
}

function query(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

function body(request: FastifyRequest): Record<string, unknown> {
  const value: unknown = request.body;
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CofferError('MALFORMED_REQUEST', 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

function sendError(reply: FastifyReply, error: CofferError): FastifyReply {
  return reply.code(error.status).type('application/json; charset=utf-8').send(errorBody(error));
}

function waitSecondsOf(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'string' || !/^[0-9]{1,2}$/.test(value)) throw new CofferError('INVALID_ARGUMENT', 'waitSeconds must be a whole number from 0 to 60');
  return Number(value);
}

export function createSignerApp(service: SigningService, authenticator: SignerAuthenticator, options: SignerAppOptions): FastifyInstance {
  const base = {
    logger: options.logger === false || options.logger === undefined ? false : {
      level: options.logger.level ?? 'warn',
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
      ...(options.logger.stream === undefined ? {} : { stream: options.logger.stream }),
    },
    genReqId: requestIdFor,
    requestIdHeader: false as const,
    bodyLimit: options.bodyBytes ?? 1024 * 1024,
    // A 20 GB upload takes a while: no whole-request deadline, idle sockets still time out.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 256 },
    // A request Node's parser refuses (a raw non-ASCII byte in the path, say) still gets the API's error shape.
    clientErrorHandler: (error: Error, socket: Socket) => {
      if (!socket.writable) return;
      const body = JSON.stringify(errorBody(new CofferError('MALFORMED_REQUEST', 'the request is not valid HTTP', { cause: error })));
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${String(Buffer.byteLength(body))}\r\nconnection: close\r\n\r\n${body}`);
    },
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      return sendError(reply, new CofferError('MALFORMED_REQUEST', 'the URL is malformed', { cause: error }));
    },
  };
  const app: FastifyInstance = options.https === undefined ? Fastify(base) : Fastify({ ...base, https: options.https });

  // Every route, so that a known path under another method is 405 with Allow, not 404.
  const catalogue = new RouteCatalogue();
  catalogue.attach(app);
  installJsonParser(app);
  // Upload bodies are not parsed: the route streams them to disk as they arrive.
  app.addContentTypeParser(UPLOAD_MEDIA_TYPES, (_request, payload, done) => {
    done(null, payload);
  });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id).header('cache-control', 'no-store');
    if (request.is404 || request.routeOptions.url === `${P}/health`) return;
    request.signerCaller = await authenticator.authenticate(request);
  });

  app.setErrorHandler((error, request, reply) => {
    let mapped = toHttpError(error);
    // The SDK's own codes describe the signer's link to Coffer, not the caller's request.
    if (mapped.code.startsWith('CLIENT_')) mapped = new CofferError('MODULE_UNAVAILABLE', 'the signing service cannot reach Coffer right now; retry later', { cause: mapped });
    if (mapped.status >= 500 && mapped.code !== 'MODULE_UNAVAILABLE') request.log.error({ err: mapped.cause ?? mapped, code: mapped.code }, 'request failed');
    return sendError(reply, mapped);
  });
  app.setNotFoundHandler((request, reply) => {
    const allowed = catalogue.methodsFor(request.url);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      return sendError(reply, new CofferError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allowed.join(', ')}`));
    }
    return sendError(reply, new CofferError('ROUTE_NOT_FOUND', 'no such endpoint'));
  });

  app.get(`${P}/health`, () => Promise.resolve({ status: 'ok', node: options.nodeId }));
  app.get(`${P}/whoami`, async (request) => service.whoami(callerOf(request)));

  app.post(`${P}/projects`, async (request, reply) => reply.code(201).send(await service.createProject(callerOf(request), body(request))));
  app.get(`${P}/projects`, async (request) => ({ projects: await service.listProjects(callerOf(request)) }));
  app.get(`${P}/projects/:project`, async (request) => service.getProject(callerOf(request), params(request)['project'] ?? ''));
  app.delete(`${P}/projects/:project`, async (request, reply) => {
    await service.deleteProject(callerOf(request), params(request)['project'] ?? '');
    return reply.code(204).send();
  });

  app.get(`${P}/projects/:project/members`, async (request) => ({ members: await service.listMembers(callerOf(request), params(request)['project'] ?? '') }));
  app.put(`${P}/projects/:project/members/:principal`, async (request) => {
    const { project = '', principal = '' } = params(request);
    return service.setMember(callerOf(request), project, principal, body(request));
  });
  app.delete(`${P}/projects/:project/members/:principal`, async (request, reply) => {
    const { project = '', principal = '' } = params(request);
    await service.removeMember(callerOf(request), project, principal);
    return reply.code(204).send();
  });

  app.get(`${P}/projects/:project/profiles`, async (request) => ({ profiles: await service.listProfiles(callerOf(request), params(request)['project'] ?? '') }));
  app.get(`${P}/projects/:project/profiles/:profile`, async (request) => {
    const { project = '', profile = '' } = params(request);
    return service.getProfile(callerOf(request), project, profile);
  });
  app.put(`${P}/projects/:project/profiles/:profile`, async (request) => {
    const { project = '', profile = '' } = params(request);
    return service.putProfile(callerOf(request), project, profile, body(request));
  });
  app.delete(`${P}/projects/:project/profiles/:profile`, async (request, reply) => {
    const { project = '', profile = '' } = params(request);
    await service.deleteProfile(callerOf(request), project, profile);
    return reply.code(204).send();
  });

  app.post(`${P}/projects/:project/uploads`, async (request, reply) => reply.code(201).send(await service.createUpload(callerOf(request), params(request)['project'] ?? '', body(request))));
  app.get(`${P}/uploads/:uploadId`, async (request) => service.uploadStatus(callerOf(request), params(request)['uploadId'] ?? ''));
  app.patch(`${P}/uploads/:uploadId`, async (request) => {
    const source = request.body as Readable | undefined;
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (source === undefined || !UPLOAD_MEDIA_TYPES.includes(contentType)) {
      throw new CofferError('UNSUPPORTED_MEDIA_TYPE', 'an upload body is application/offset+octet-stream');
    }
    try {
      const offsetHeader = request.headers['upload-offset'];
      if (typeof offsetHeader !== 'string' || !OFFSET.test(offsetHeader)) throw new CofferError('INVALID_ARGUMENT', 'the Upload-Offset header must give the offset the bytes start at');
      return await service.appendUpload(callerOf(request), params(request)['uploadId'] ?? '', Number(offsetHeader), source);
    } finally {
      // Refused before (or without) reading it all: drop the rest rather than leave the socket stuck.
      if (!source.readableEnded) source.resume();
    }
  });
  app.delete(`${P}/uploads/:uploadId`, async (request, reply) => {
    await service.deleteUpload(callerOf(request), params(request)['uploadId'] ?? '');
    return reply.code(204).send();
  });

  app.post(`${P}/projects/:project/jobs`, async (request, reply) => reply.code(202).send(await service.submitJob(callerOf(request), params(request)['project'] ?? '', body(request))));
  app.get(`${P}/projects/:project/jobs`, async (request) => service.listJobs(callerOf(request), params(request)['project'] ?? '', query(request)));
  app.get(`${P}/jobs/:jobId`, async (request) => service.getJob(callerOf(request), params(request)['jobId'] ?? '', waitSecondsOf(query(request)['waitSeconds'])));
  app.get(`${P}/jobs/:jobId/output`, async (request, reply) => {
    const { job, bytes } = await service.jobOutput(callerOf(request), params(request)['jobId'] ?? '');
    const result = job.result;
    if (result === undefined) throw new CofferError('SIGNING_JOB_STATE', 'the job has no output');
    return reply.type(result.mediaType).header('x-coffer-suffix', result.suffix).header('x-coffer-sha256', result.signatureSha256).send(bytes);
  });
  app.get(`${P}/projects/:project/artifacts/:sha256`, async (request) => {
    const { project = '', sha256 = '' } = params(request);
    return { jobs: await service.findByArtifact(callerOf(request), project, sha256) };
  });
  app.get(`${P}/projects/:project/outputs/:sha256`, async (request, reply) => {
    const { project = '', sha256 = '' } = params(request);
    const output = await service.output(callerOf(request), project, sha256);
    return reply.type(output.mediaType).header('x-coffer-suffix', output.suffix).header('x-coffer-sha256', sha256).send(output.bytes);
  });

  app.post(`${P}/telemetry`, async (request, reply) => {
    await service.telemetry(callerOf(request), request.body);
    return reply.code(202).send({ accepted: true });
  });
  app.get(`${P}/stats`, async (request) => service.statistics(callerOf(request), query(request)));
  return app;
}
