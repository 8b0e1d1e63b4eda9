// What the API modules send requests through: one node or a cluster of them, the modules cannot tell.
import type { SendOptions } from './http-transport.ts';

export interface RequestOptions extends SendOptions {
  /**
   * Safe to run twice (a pure computation such as sign or decrypt): retried on another node after a
   * transport failure or a 503 without an Idempotency-Key. GET requests are idempotent anyway.
   */
  readonly idempotent?: boolean;
}

export interface Exchange {
  readonly body: unknown;
  /** The request id the node answered under. */
  readonly requestId: string;
  /** The base URL of the node that answered. */
  readonly node: string;
}

export interface Transport {
  /** Sends one request; resolves to the parsed JSON answer (undefined for 204). */
  send(method: string, path: string, options?: RequestOptions): Promise<unknown>;
  /** As send, with the request id and the node that answered. */
  exchange(method: string, path: string, options?: RequestOptions): Promise<Exchange>;
  /**
   * Uses this bearer token from now on (undefined: none). Tokens live in the memory of the node that
   * issued them, so requests with a token go to `node` (default: the first seed).
   */
  useToken(token: string | undefined, node?: string): void;
}
