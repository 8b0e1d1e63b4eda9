// JSON over HTTPS to one node (cluster-transport.ts spreads requests over several): a keep-alive agent holding the client's TLS identity, one deadline
// per request, and the API's error body turned into CofferApiError.
import { randomUUID } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { CofferError } from '../core/errors.ts';
import { apiErrorFrom, networkError, protocolError } from './client-errors.ts';
import { readAnswerBytes, requestIdOf, REQUEST_ID_HEADER } from './answer-reader.ts';

export interface TransportOptions {
  readonly url: URL;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly timeoutMs: number;
}

/**
 * One agent per client: its pool is keyed by this client's certificate, so connections (and the
 * principal they authenticate) are never shared with another identity.
 */
export function clientAgent(options: Pick<TransportOptions, 'ca' | 'cert' | 'key'>): Agent {
  return new Agent({
    keepAlive: true,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
  });
}

export type Query = Readonly<Record<string, string | number | undefined>>;

export interface SendOptions {
  readonly query?: Query;
  readonly body?: unknown;
  /** Extra request headers (authorization, idempotency-key); they override the defaults. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A shorter deadline for this request (discovery), capped by the transport's own. */
  readonly timeoutMs?: number;
}

/**
 * The largest answer read: a full batch of 1,000 results is a few MiB; anything far larger is not
 * an API answer and must not exhaust the caller's memory.
 */

export class HttpTransport {
  readonly #agent: Agent;
  readonly #base: URL;
  readonly #timeoutMs: number;
  token: string | undefined;

  constructor(options: TransportOptions) {
    this.#base = new URL(options.url.href.endsWith('/') ? options.url.href : `${options.url.href}/`);
    this.#timeoutMs = options.timeoutMs;
    this.#agent = clientAgent(options);
  }

  get url(): string {
    return this.#base.href.replace(/\/$/, '');
  }

  /** Sends one request; resolves to the parsed JSON answer (undefined for 204). */
  async send(method: string, path: string, options: SendOptions = {}): Promise<unknown> {
    return (await this.exchange(method, path, options)).body;
  }

  /** As send, with the request id the node answered under (the one this client sent). */
  exchange(method: string, path: string, options: SendOptions = {}): Promise<{ body: unknown; requestId: string; node: string }> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
    const requestId = randomUUID();
    const headers: Record<string, string | number> = { accept: 'application/json', [REQUEST_ID_HEADER]: requestId };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    Object.assign(headers, options.headers);
    const timeoutMs = Math.min(this.#timeoutMs, options.timeoutMs ?? this.#timeoutMs);

    return new Promise((resolve, reject) => {
      // Whichever comes first (answer, socket error, deadline) settles the promise; the rest are ignored.
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        return true;
      };
      const fail = (error: Error): void => {
        if (settle()) reject(error);
      };
      const answered = (res: IncomingMessage): void => {
        readAnswerBytes(res).then((bytes) => bytes.toString('utf8')).then((text) => {
          if (!settle()) return;
          const outcome = interpret(res, text, requestId);
          if (outcome instanceof Error) reject(outcome);
          else resolve({ body: outcome.body, requestId: requestIdOf(res) ?? requestId, node: this.url });
        }, (error: unknown) => {
          fail(error instanceof CofferError ? error : networkError(error, this.url));
        });
      };
      let req: ClientRequest;
      try {
        req = httpsRequest(url, { method, agent: this.#agent, headers }, answered);
      } catch (error) {
        // TLS material that OpenSSL refuses is thrown at once, before any socket exists.
        fail(networkError(error, this.url));
        return;
      }
      // The deadline covers connecting, sending and reading the whole answer.
      timer = setTimeout(() => {
        fail(new CofferError('CLIENT_TIMEOUT', `${method} ${url.pathname} got no answer from ${this.url} within ${timeoutMs} ms (request id ${requestId})`));
        req.destroy();
      }, timeoutMs);
      req.on('error', (error) => {
        fail(networkError(error, this.url));
      });
      req.end(payload);
    });
  }

  /** Sends this bearer token from now on (this transport is one node, so `node` is moot). */
  useToken(token: string | undefined): void {
    this.token = token;
  }

  /** Closes every pooled connection; requests after this open new ones. */
  close(): void {
    this.#agent.destroy();
  }
}



/** The answer's JSON body, or the error it stands for (returned, not thrown, for the caller to reject with). */
function interpret(res: IncomingMessage, text: string, sentId: string): { body: unknown } | CofferError {
  const status = res.statusCode ?? 0;
  const requestId = requestIdOf(res) ?? sentId;
  const ok = status >= 200 && status < 300;
  let body: unknown;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      return protocolError(ok ? `the answer (HTTP ${status}) is not JSON` : `HTTP ${status} with a body that is not JSON`, status, requestId);
    }
  }
  return ok ? { body } : apiErrorFrom(body, status, requestId);
}
