// Errors of the SDK: CofferApiError for a node's answer (its catalogue code, HTTP status and request
// id), plain CofferErrors with CLIENT_* codes when no answer came (unreachable, timeout, TLS).
import { CATALOGUE, CofferError, isErrorCode, type ErrorCode } from '../core/errors.ts';

/** A node answered with an error: branch on `code`, never on `message`. */
export class CofferApiError extends CofferError {
  /** The HTTP status of the answer (for a batch item: the code's catalogue status). */
  readonly httpStatus: number;
  /** The node's request id: the key to its log line and audit entries. */
  readonly requestId: string | undefined;

  constructor(code: ErrorCode, message: string, details: { status: number; requestId?: string | undefined; cause?: unknown }) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CofferApiError';
    this.httpStatus = details.status;
    this.requestId = details.requestId;
  }

  override get status(): number {
    return this.httpStatus;
  }
}

/**
 * The error an answer's `{"error":{"code","message"}}` stands for. A code this client does not
 * know (a newer node) keeps its text in the message under CLIENT_PROTOCOL_ERROR.
 */
export function apiErrorFrom(body: unknown, status: number | undefined, requestId: string | undefined): CofferApiError {
  const error = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['error'] : undefined;
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const { code, message } = fields;
  // A batch item has no HTTP status of its own: it gets its code's catalogue status.
  const known = isErrorCode(code) ? code : 'CLIENT_PROTOCOL_ERROR';
  const effective = status ?? CATALOGUE[known].status;
  const text = typeof message === 'string' ? message : `HTTP ${effective}`;
  if (isErrorCode(code)) return new CofferApiError(code, text, { status: effective, requestId });
  const what = typeof code === 'string' ? `unknown error code ${JSON.stringify(code.slice(0, 64))}: ${text}` : `HTTP ${effective} without a Coffer error body`;
  return new CofferApiError('CLIENT_PROTOCOL_ERROR', what, { status: effective, requestId });
}

export function protocolError(message: string, status: number, requestId: string | undefined): CofferApiError {
  return new CofferApiError('CLIENT_PROTOCOL_ERROR', message, { status, requestId });
}

/** Node's TLS and certificate error codes (OpenSSL verification results and Node's own). */
const TLS_CODES = /^(?:ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_(?:GET|VERIFY)_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

/** Maps a socket-level failure to a CLIENT_* error; the cause keeps the original for debugging. */
export function networkError(error: unknown, url: string): CofferError {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const detail = typeof code === 'string' ? code : error instanceof Error ? error.message : 'unknown error';
  if (typeof code === 'string' && TLS_CODES.test(code)) {
    return new CofferError('CLIENT_TLS_FAILED', `TLS with ${url} failed (${detail}): check the CA (--ca / COFFER_CA) and the host name`, { cause: error });
  }
  return new CofferError('CLIENT_UNAVAILABLE', `cannot reach ${url} (${detail})`, { cause: error });
}
