// Turns whatever a request threw into a CofferError: ours pass through, Fastify's parse and
// validation errors get catalogue codes with safe messages, anything else is INTERNAL_ERROR.
import { CofferError, toCofferError, type ErrorCode } from '../core/errors.ts';

/** The one error shape every endpoint answers with. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

export const ERROR_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export function errorBody(error: CofferError): ErrorBody {
  return { error: { code: error.code, message: error.message } };
}

interface ValidationIssue {
  readonly instancePath?: string;
  readonly message?: string;
  readonly keyword?: string;
  readonly params?: Record<string, unknown>;
}

/** Names the field at fault in ajv's terms; user-supplied property names are cut short. */
function describeIssue(context: string, issue: ValidationIssue): string {
  const where = `${context}${(issue.instancePath ?? '').replaceAll('/', '.')}`;
  const params = issue.params ?? {};
  const name = (key: string): string => String(params[key]).slice(0, 64);
  switch (issue.keyword) {
    case 'additionalProperties': return `${where}: unknown property '${name('additionalProperty')}'`;
    case 'required': return `${where}: missing property '${name('missingProperty')}'`;
    case 'pattern': return `${where}: has the wrong format`;
    default: return `${where}: ${(issue.message ?? 'is invalid').slice(0, 200)}`;
  }
}

function field(error: object, key: string): unknown {
  return (error as Record<string, unknown>)[key];
}

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'INPUT_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Maps a thrown value to the error the client sees. Unknown causes stay only in `cause`. */
export function toHttpError(error: unknown): CofferError {
  if (error instanceof CofferError || typeof error !== 'object' || error === null) return toCofferError(error);
  const validation = field(error, 'validation');
  if (Array.isArray(validation)) {
    const context = field(error, 'validationContext');
    const first = validation[0] as ValidationIssue | undefined;
    const message = first === undefined ? 'the request does not match the endpoint schema' : describeIssue(typeof context === 'string' ? context : 'request', first);
    return new CofferError('MALFORMED_REQUEST', message, { cause: error });
  }
  const code = field(error, 'code');
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CofferError('INPUT_TOO_LARGE', 'the request body is larger than this endpoint accepts', { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CofferError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json', { cause: error });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new CofferError('MALFORMED_REQUEST', 'the request body is empty but declared as JSON', { cause: error });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new CofferError('MALFORMED_REQUEST', 'the request body is not valid JSON', { cause: error });
    default:
      break;
  }
  // Fastify marks client mistakes with a 4xx statusCode (bad JSON, prototype poisoning, bad URL…).
  const status = field(error, 'statusCode');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const mapped = BY_STATUS[status] ?? 'MALFORMED_REQUEST';
    const message = mapped === 'MALFORMED_REQUEST' ? 'the request is malformed' : 'the request was refused';
    return new CofferError(mapped, message, { cause: error });
  }
  return toCofferError(error);
}
