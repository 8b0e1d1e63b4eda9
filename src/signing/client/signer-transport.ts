// HTTPS to the signing service: one keep-alive agent holding the client's TLS identity, JSON calls
// under a deadline, request bodies streamed from any byte source (never buffered), binary answers
// read up to a bound, and the API's error body turned into CofferApiError (the SDK's own helpers).
import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CofferError } from '../../core/errors.ts';
import { apiErrorFrom, networkError, protocolError } from '../../client/client-errors.ts';
import { readAnswerBytes, requestIdOf, REQUEST_ID_HEADER } from '../../client/answer-reader.ts';
import { clientAgent, type Query, type TransportOptions } from '../../client/http-transport.ts';

/** The node transport's options, with the bearer token the signer also takes. */
export interface SignerTransportOptions extends TransportOptions {
  readonly token?: string | undefined;
}

export type { Query };

/** A streamed request body and what is known of it. */
export interface StreamBody {
  readonly source: AsyncIterable<Uint8Array>;
  readonly contentType: string;
  /** Sent as Content-Length when known; otherwise the body goes chunked. */
  readonly length?: number | undefined;
  /** Called with the bytes handed to the socket so far, after each chunk. */
  readonly onSent?: ((sent: number) => void) | undefined;
}

export interface RawRequest {
  readonly query?: Query;
  readonly json?: unknown;
  readonly stream?: StreamBody;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A whole-request deadline (JSON calls); a streamed call gets an idle timeout instead, so a
   * multi-gigabyte upload is bounded by a stalled connection, not by its length.
   */
  readonly deadlineMs?: number;
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * The largest answer read: JSON lists and detached signatures are far below it; anything larger is
 * not an answer of this API and must not exhaust the caller's memory.
 */

/** A failure of the body's source (a file that cannot be read): kept apart from network failures. */
class SourceFailure extends Error {
  readonly error: unknown;
  constructor(error: unknown) {
    super('the request body could not be read');
    this.error = error;
  }
}

export class SignerTransport {
  readonly #agent: Agent;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #token: string | undefined;
  readonly #servername: string | undefined;

  constructor(options: SignerTransportOptions) {
    this.#base = new URL(options.url.href.endsWith('/') ? options.url.href : `${options.url.href}/`);
    this.#timeoutMs = options.timeoutMs;
    this.#token = options.token;
    // SNI carries host names only (RFC 6066 §3); the certificate is checked against the URL's host either way.
    const host = this.#base.hostname.replace(/^\[|\]$/g, '');
    this.#servername = isIP(host) === 0 ? host : undefined;
    this.#agent = clientAgent(options);
  }

  get url(): string {
    return this.#base.href.replace(/\/$/, '');
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** A JSON call: the parsed answer (undefined for an empty one); a non-2xx answer is thrown as its CofferApiError. */
  async json(method: string, path: string, request: RawRequest = {}): Promise<unknown> {
    const answer = await this.raw(method, path, { ...request, headers: { accept: 'application/json', ...request.headers } });
    return parseJson(answer, answer.headers[REQUEST_ID_HEADER]);
  }

  /** One request; resolves to a 2xx answer, rejects with the API error, a CLIENT_* error or the body source's failure. */
  raw(method: string, path: string, request: RawRequest = {}): Promise<RawAnswer> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const requestId = randomUUID();
    const headers: Record<string, string | number> = { [REQUEST_ID_HEADER]: requestId };
    const payload = request.json === undefined ? undefined : Buffer.from(JSON.stringify(request.json), 'utf8');
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const stream = request.stream;
    if (stream !== undefined) {
      headers['content-type'] = stream.contentType;
      if (stream.length !== undefined) headers['content-length'] = stream.length;
    }
    if (this.#token !== undefined) headers['authorization'] = `Bearer ${this.#token}`;
    Object.assign(headers, request.headers);
    const deadlineMs = stream === undefined ? request.deadlineMs ?? this.#timeoutMs : undefined;

    return new Promise((resolve, reject) => {
      // Whichever comes first (answer, socket error, source error, deadline) settles the promise.
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      let req: ClientRequest | undefined = undefined;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        return true;
      };
      const fail = (error: unknown): void => {
        if (!settle()) return;
        req?.destroy();
        if (error instanceof SourceFailure) reject(sourceError(error.error));
        else reject(error instanceof CofferError ? error : networkError(error, this.url));
      };
      const answered = (res: IncomingMessage): void => {
        readAnswerBytes(res).then((body) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            if (settle()) resolve({ status, headers: res.headers, body });
            return;
          }
          // An error answer may come before the body is sent (a wrong offset): stop sending.
          fail(errorOf(status, body, requestIdOf(res) ?? requestId));
        }, fail);
      };
      try {
        req = httpsRequest(url, { method, agent: this.#agent, headers, ...(this.#servername === undefined ? {} : { servername: this.#servername }) }, answered);
      } catch (error) {
        // TLS material that OpenSSL refuses is thrown at once, before any socket exists.
        fail(error);
        return;
      }
      const sending = req;
      if (deadlineMs !== undefined) {
        timer = setTimeout(() => {
          fail(new CofferError('CLIENT_TIMEOUT', `${method} ${url.pathname} got no answer from ${this.url} within ${deadlineMs} ms (request id ${requestId})`));
        }, deadlineMs);
      } else {
        sending.setTimeout(this.#timeoutMs, () => {
          fail(new CofferError('CLIENT_TIMEOUT', `${method} ${url.pathname}: the connection to ${this.url} was idle for ${this.#timeoutMs} ms (request id ${requestId})`));
        });
      }
      sending.on('error', fail);
      if (stream === undefined) {
        sending.end(payload);
        return;
      }
      pipeline(Readable.from(counted(stream)), sending).catch((error: unknown) => {
        // A write error after the answer arrived is the server closing early: the answer decides.
        if (error instanceof SourceFailure || !settled) fail(error);
      });
    });
  }

  /** Closes every pooled connection; requests after this open new ones. */
  close(): void {
    this.#agent.destroy();
  }
}

/** The body's chunks as they go out, counted; a failure of the source itself is marked as such. */
async function* counted(stream: StreamBody): AsyncGenerator<Uint8Array> {
  let sent = 0;
  const iterator = stream.source[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new SourceFailure(error);
    }
    if (next.done === true) break;
    sent += next.value.length;
    // A source that yields more or less than its Content-Length (a file that changed) is refused here, not by the server's timeout.
    if (stream.length !== undefined && sent > stream.length) throw new SourceFailure(new CofferError('INVALID_ARGUMENT', `the data to send is longer than the ${stream.length} bytes announced`));
    yield next.value;
    stream.onSent?.(sent);
  }
  if (stream.length !== undefined && sent !== stream.length) throw new SourceFailure(new CofferError('INVALID_ARGUMENT', `the data to send ended after ${sent} of the ${stream.length} bytes announced`));
}

function sourceError(error: unknown): CofferError {
  if (error instanceof CofferError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return new CofferError('INVALID_ARGUMENT', `cannot read the data to send${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error });
}



function errorOf(status: number, body: Buffer, requestId: string): CofferError {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
  } catch {
    return protocolError(`HTTP ${status} with a body that is not JSON`, status, requestId);
  }
  return apiErrorFrom(parsed, status, requestId);
}

function parseJson(answer: RawAnswer, requestId: string | string[] | undefined): unknown {
  if (answer.body.length === 0) return undefined;
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw protocolError(`the answer (HTTP ${answer.status}) is not JSON`, answer.status, typeof requestId === 'string' ? requestId : undefined);
  }
}
