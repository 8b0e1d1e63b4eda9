// JSON schemas shared by the v1 routes. Response schemas are allowlists (additionalProperties:
// false): a field that is not declared here is dropped by the serialiser, so key material, password
// hashes or tokens can never be serialised by accident.
import { MAX_KEY_APPROVERS } from '../../core/engine/index.ts';
import { ERROR_BODY_SCHEMA } from '../http-errors.ts';

/** Key, project and principal names as path parameters; the owning layer applies its exact rule. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
/** A key id, or `project/name`. */
export const KEY_REF_PATTERN = '^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9][A-Za-z0-9._-]{0,127}/[A-Za-z0-9][A-Za-z0-9._-]{0,127})$';
export const TIMESTAMP = { type: 'string', description: 'RFC 3339 time' } as const;

export const nameSchema = (description: string) => ({ type: 'string', pattern: NAME_PATTERN, description }) as const;
export const keyIdParams = {
  type: 'object', additionalProperties: false, required: ['keyId'],
  properties: { keyId: { type: 'string', pattern: UUID_PATTERN, description: 'Key id (uuid)' } },
} as const;

export const stringMap = (description: string) => ({ type: 'object', additionalProperties: { type: 'string' }, description }) as const;

/** Adds the error body for every 4xx and 5xx answer. */
export function withErrors<T extends Record<string, unknown>>(ok: T): T & { '4xx': typeof ERROR_BODY_SCHEMA; '5xx': typeof ERROR_BODY_SCHEMA } {
  return { ...ok, '4xx': ERROR_BODY_SCHEMA, '5xx': ERROR_BODY_SCHEMA };
}


/** {threshold, approvers, rejectionEnds?, sealed?}: also the `approval` field of POST /v1/keys. */
export const approvalPolicySchema = {
  type: 'object', additionalProperties: false, required: ['threshold', 'approvers'],
  properties: {
    threshold: { type: 'integer', minimum: 1, maximum: MAX_KEY_APPROVERS, description: 'M: approvals needed, never counting the requester' },
    approvers: { type: 'array', minItems: 1, maxItems: MAX_KEY_APPROVERS, items: nameSchema('Approver'), description: 'The N principals who may approve' },
    rejectionEnds: { type: 'boolean', description: 'A rejection by any approver ends the request (default true)' },
    sealed: { type: 'boolean', description: 'Encrypt the material under a key split among the approvers (asymmetric keys; default false)' },
  },
} as const;

export const approvalPolicyResponse = {
  type: 'object', additionalProperties: false, required: ['threshold', 'approvers', 'rejectionEnds', 'sealed'],
  properties: { threshold: { type: 'integer' }, approvers: { type: 'array', items: { type: 'string' } }, rejectionEnds: { type: 'boolean' }, sealed: { type: 'boolean' } },
} as const;

export const EMPTY_RESPONSE = { type: 'null', description: 'No content' } as const;

export const keyMetadataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'project', 'owner', 'spec', 'usage', 'state', 'exportable', 'description', 'tags', 'sharedWith', 'currentVersion', 'minDecryptVersion', 'versions', 'algorithms', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    project: { type: 'string' },
    owner: { type: 'string' },
    spec: { type: 'string' },
    usage: { type: 'string' },
    state: { type: 'string' },
    exportable: { type: 'boolean' },
    description: { type: 'string' },
    tags: stringMap('Tags'),
    sharedWith: { type: 'array', items: { type: 'string' } },
    approval: approvalPolicyResponse,
    currentVersion: { type: 'integer' },
    minDecryptVersion: { type: 'integer' },
    versions: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['version', 'createdAt', 'origin'],
        properties: { version: { type: 'integer' }, createdAt: TIMESTAMP, origin: { type: 'string' } },
      },
    },
    algorithms: { type: 'array', items: { type: 'string' } },
    createdAt: TIMESTAMP,
    updatedAt: TIMESTAMP,
    deletionDate: TIMESTAMP,
    destroyedAt: TIMESTAMP,
  },
} as const;

export const certificateBindingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['fingerprint'],
  properties: {
    fingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the certificate DER, lowercase hex' },
    subject: { type: 'string', maxLength: 1024 },
  },
} as const;

export const principalSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'role', 'projects', 'status', 'certificates', 'hasPassword', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    projects: { type: 'array', items: { type: 'string' } },
    defaultProject: { type: 'string' },
    status: { type: 'string' },
    certificates: { type: 'array', items: certificateBindingSchema },
    hasPassword: { type: 'boolean' },
    createdAt: TIMESTAMP,
    updatedAt: TIMESTAMP,
  },
} as const;

export const projectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'createdAt'],
  properties: { name: { type: 'string' }, description: { type: 'string' }, createdAt: TIMESTAMP },
} as const;
