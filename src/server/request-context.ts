// What a request carries once it is authenticated (module augmentation of Fastify's request), the
// per-route options the hooks read, and accessors that make a missing principal an error.
import type { FastifyRequest } from 'fastify';
import { CofferError, type ErrorCode } from '../core/errors.ts';
import type { Caller } from '../core/engine/index.ts';
import type { Principal } from './identity/identity-types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook; undefined on routes that need no principal. */
    principal: Principal | undefined;
    caller: Caller | undefined;
    /** The catalogue code answered, for the request log line and metrics. */
    errorCode: ErrorCode | undefined;
  }

  /** Documentation carried by each route's schema into the OpenAPI document. */
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: readonly string[];
  }

  interface FastifyContextConfig {
    /** 'none': the route needs no principal (domain status/init/unseal, login, the API document). */
    auth?: 'none' | 'required';
    /** Served while the node is sealed or uninitialised; every other route answers DOMAIN_SEALED. */
    whileSealed?: boolean;
    /** The route reads a binary body of its own media type (its content-type parser admits only it). */
    rawBody?: boolean;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new CofferError('AUTH_REQUIRED', 'this endpoint needs a client certificate or a bearer token');
  return request.principal;
}

export function callerOfRequest(request: FastifyRequest): Caller {
  if (request.caller === undefined) throw new CofferError('AUTH_REQUIRED', 'this endpoint needs a client certificate or a bearer token');
  return request.caller;
}
