// Messages between bench/server.ts and its load generator (bench/load-generator.ts, a child process):
// the node to load, one job at a time, and what the job measured on the client side.
import type { ClientIdentity, LoadProtocol, LoadTally } from './load-child-protocol.ts';

/** The node, and the client identity (PEM text, so the child reads no files). */
export interface LoadTarget extends ClientIdentity {
  readonly host: string;
  readonly port: number;
  /** Keep-alive connections the client may open (the open-loop pacer's ceiling too). */
  readonly maxSockets: number;
  /**
   * 'tls': a minimal HTTP/1.1 client over node:tls (bench/load-connection.ts), the lightest;
   * 'https': node:https with a keep-alive Agent, as the SDK's transport.
   */
  readonly transport: Transport;
}

export const TRANSPORTS = ['tls', 'https'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export type Pace =
  /** `connections` requests always in flight, each sent when the previous one on it is answered. */
  | { readonly kind: 'closed'; readonly connections: number }
  /** Requests sent on a fixed schedule whatever the answers do (no coordinated omission). */
  | { readonly kind: 'open'; readonly rate: number };

export interface LoadJob {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** JSON bodies sent in turn (none for GET), serialised by the parent before the timed window. */
  readonly bodies: readonly string[];
  readonly ms: number;
  readonly pace: Pace;
  /** A 200 answer containing this text counts as failed (a batch with a failed item). */
  readonly failureMarker?: string;
}

/** `completed` counts requests answered 200 (and without the failure marker). */
export interface LoadResult extends LoadTally {
  /**
   * Per completed request, in ms: closed loop from send to answer; open loop from the time the
   * schedule said to send (so a late send counts against the latency, as in wrk2).
   */
  readonly latenciesMs: Float64Array;
  /** Open loop: how late sends left against the schedule, ms (empty for a closed loop). */
  readonly sendLagMs: Float64Array;
}

export interface ServerLoad extends LoadProtocol {
  readonly setup: LoadTarget;
  readonly job: LoadJob;
  readonly result: LoadResult;
}
