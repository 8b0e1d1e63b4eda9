// The RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4): POST /v1/tsa takes the DER query as
// application/timestamp-query and answers application/timestamp-reply, for openssl, curl, signtool
// and jarsigner; POST /v1/tsa/stamp is the same as JSON for the SDK. The key is named by ?key= / key.
import type { FastifyInstance } from 'fastify';
import { CofferError } from '../../core/errors.ts';
import { MAX_TIME_STAMP_REQUEST_BYTES } from '../../pki/tsa/index.ts';
import { decodeBase64Field, encodeBase64, base64Schema } from '../base64-field.ts';
import { parseKeyRef } from '../key-ref.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { KEY_REF_PATTERN, withErrors } from './schemas.ts';

const TAGS = ['pki'];
export const TIMESTAMP_QUERY_TYPE = 'application/timestamp-query';
export const TIMESTAMP_REPLY_TYPE = 'application/timestamp-reply';
const KEY = { type: 'string', pattern: KEY_REF_PATTERN, description: 'The TSA key: id or project/name; it needs an attached time-stamping certificate' } as const;

export function tsaRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // Only /v1/tsa reads this media type; anywhere else it is refused before any handler runs.
  app.addContentTypeParser(TIMESTAMP_QUERY_TYPE, { parseAs: 'buffer', bodyLimit: MAX_TIME_STAMP_REQUEST_BYTES }, (request, body, done) => {
    if (request.url.split('?')[0] !== '/v1/tsa') {
      done(new CofferError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json'), undefined);
      return;
    }
    done(null, body);
  });

  app.post<{ Querystring: { key: string } }>('/v1/tsa', {
    config: { rawBody: true },
    schema: {
      summary: 'RFC 3161 time-stamp: the body is a DER TimeStampReq (application/timestamp-query), the answer a DER TimeStampResp (application/timestamp-reply); a malformed query gets a rejection reply',
      tags: TAGS,
      querystring: { type: 'object', additionalProperties: false, required: ['key'], properties: { key: KEY } },
      response: withErrors({ 200: { type: 'string', description: 'DER TimeStampResp (application/timestamp-reply)' } }),
    },
  }, async (request, reply) => {
    const body: unknown = request.body;
    if (!Buffer.isBuffer(body)) throw new CofferError('UNSUPPORTED_MEDIA_TYPE', `send the DER query as ${TIMESTAMP_QUERY_TYPE}`);
    const result = await ctx.services.pki().timeStamp(callerOfRequest(request), parseKeyRef(request.query.key), body);
    return reply.type(TIMESTAMP_REPLY_TYPE).send(result.reply);
  });

  app.post<{ Body: { key: string; query: string } }>('/v1/tsa/stamp', {
    schema: {
      summary: 'RFC 3161 time-stamp as JSON: a base64 DER TimeStampReq in, the DER TimeStampResp and its status out', tags: TAGS,
      body: { type: 'object', additionalProperties: false, required: ['key', 'query'], properties: { key: KEY, query: base64Schema('DER TimeStampReq') } },
      response: withErrors({
        200: {
          type: 'object', additionalProperties: false, required: ['reply', 'granted', 'status', 'keyId', 'policy'],
          properties: {
            reply: base64Schema('DER TimeStampResp'), granted: { type: 'boolean' },
            status: { type: 'integer', description: 'PKIStatus: 0 granted, 2 rejection' },
            failure: { type: 'string', description: 'PKIFailureInfo bit name when rejected (badAlg, badRequest, badDataFormat, unacceptedPolicy, unacceptedExtension)' },
            serialNumber: { type: 'string', description: 'The token serial number, hex' }, keyId: { type: 'string' }, policy: { type: 'string', description: 'TSA policy OID' },
          },
        },
      }),
    },
  }, async (request) => {
    const query = decodeBase64Field(request.body.query, 'query');
    const result = await ctx.services.pki().timeStamp(callerOfRequest(request), parseKeyRef(request.body.key), query);
    return {
      reply: encodeBase64(result.reply), granted: result.granted, status: result.granted ? 0 : 2, keyId: result.keyId, policy: result.policy,
      ...(result.failure === undefined ? {} : { failure: result.failure }),
      ...(result.serialNumber === undefined ? {} : { serialNumber: result.serialNumber }),
    };
  });
}
