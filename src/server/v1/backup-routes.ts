// /v1/backups: officers create a backup in the node's backup directory, list the manifests there,
// verify one (signature, digest, domain, every chunk) and restore one ('empty' or 'merge'). Where the
// quorum policy covers backup.restore the direct restore is refused (QUORUM_REQUIRED, audited): it
// then runs by applying an approved backup.restore quorum token naming the file.
import type { FastifyInstance } from 'fastify';
import type { RestoreMode } from '../../cluster/backup/index.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { TIMESTAMP, withErrors } from './schemas.ts';

const COUNT = { type: 'integer', minimum: 0 } as const;
const BACKUP_NAME = { type: 'string', pattern: '^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,126}\\.cbk|[0-9a-f]{64})$', description: 'A backup file name (….cbk) or its manifest digest' } as const;

/** The manifest as served: the descriptor is public but long, so only its id and threshold are shown. */
const manifestSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    format: { type: 'string' }, formatVersion: COUNT, backupId: { type: 'string' }, createdAt: TIMESTAMP,
    domainId: { type: 'string', description: 'The security domain (cluster id) that made and can restore it' },
    auditPublicKey: { type: 'string', description: 'SPKI (base64url) of the audit key that signed the manifest' },
    nodeId: { type: 'string' }, storeRevision: COUNT, chunkBytes: COUNT,
    body: { type: 'object', additionalProperties: false, properties: { sha256: { type: 'string' }, bytes: COUNT, chunks: COUNT } },
    records: { type: 'object', additionalProperties: false, properties: { total: COUNT, byPrefix: { type: 'object', additionalProperties: COUNT } } },
    excludedPrefixes: { type: 'array', items: { type: 'string' } },
    auditHead: {
      type: 'object', additionalProperties: false, required: ['seq', 'hash'], description: "The creating node's audit chain head when the backup was written",
      properties: { seq: { type: 'integer', minimum: -1 }, hash: { type: 'string' } },
    },
  },
} as const;

const summarySchema = {
  type: 'object', additionalProperties: false, required: ['name', 'manifestDigest', 'manifest'],
  properties: { name: { type: 'string' }, manifestDigest: { type: 'string', description: 'Hex SHA-256 of the manifest' }, manifest: manifestSchema },
} as const;

const nameParams = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: BACKUP_NAME } } as const;

export function backupRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/backups', {
    schema: { summary: 'Write a backup of every record to the backup directory (officers)', tags: ['backups'], response: withErrors({ 201: summarySchema }) },
  }, async (request, reply) => reply.code(201).send(await ctx.services.backups.create(callerOfRequest(request))));

  app.get('/v1/backups', {
    schema: {
      summary: 'List the backups in the backup directory, oldest first (officers)', tags: ['backups'],
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['backups', 'damaged'], properties: { backups: { type: 'array', items: summarySchema }, damaged: { type: 'array', items: { type: 'string' }, description: 'Files whose manifest does not check' } } } }),
    },
  }, (request) => ctx.services.backups.list(callerOfRequest(request)));

  app.post<{ Params: { name: string } }>('/v1/backups/:name/verify', {
    schema: { summary: 'Check a backup completely without restoring it (officers)', tags: ['backups'], params: nameParams, response: withErrors({ 200: summarySchema }) },
  }, (request) => ctx.services.backups.verify(callerOfRequest(request), request.params.name));

  app.post<{ Params: { name: string }; Body: { mode: RestoreMode } }>('/v1/backups/:name/restore', {
    schema: {
      summary: "Restore a backup: into an empty store, or merged without overwriting newer records (officers; quorum where the policy covers backup.restore)", tags: ['backups'],
      params: nameParams,
      body: { type: 'object', additionalProperties: false, required: ['mode'], properties: { mode: { type: 'string', enum: ['empty', 'merge'] } } },
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['name', 'mode', 'restored', 'kept', 'manifest'], properties: { name: { type: 'string' }, mode: { type: 'string' }, restored: COUNT, kept: COUNT, manifest: manifestSchema } } }),
    },
  }, async (request) => {
    const caller = callerOfRequest(request);
    await ctx.services.quorum().requireUnguarded(caller, 'backup.restore', { operation: 'backup.restore', target: request.params.name });
    return ctx.services.backups.restore(caller, request.params.name, request.body.mode);
  });
}
