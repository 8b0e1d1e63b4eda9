// /REST/v1/...: VSSM's API (POST, proto3 JSON) over the engine, authenticated exactly like /v1
// (client certificate or bearer token); admin calls also need the caller's own adminPassword.
import type { FastifyInstance } from 'fastify';
import { callerOfRequest, principalOf } from '../request-context.ts';
import type { RouteContext } from '../v1/route-context.ts';
import { withErrors } from '../v1/schemas.ts';
import { verifyAdminPassword } from './admin-password.ts';
import { decodeMessage, messageSchema, normaliseFieldNames, type Decoded, type MessageShape } from './proto-json.ts';
import { generateKey, injectKey, listKeys } from './vssm-admin.ts';
import { generateBackup, restoreBackupBlob, restoreBackupBodyBytes } from './vssm-backup.ts';
import { vssmAuditor } from './vssm-audit.ts';
import type { VssmCall } from './vssm-call.ts';
import { asymmetricDecrypt, asymmetricEncrypt, asymmetricSign, asymmetricVerify, hmacCreate, hmacVerify, symmetricDecrypt, symmetricEncrypt } from './vssm-crypto.ts';
import { visibleLogLines } from './vssm-logs.ts';
import * as M from './vssm-messages.ts';

interface VssmRoute {
  /** Under /REST/v1/, as VSSM's service.go registers it. */
  readonly path: string;
  readonly summary: string;
  readonly request: MessageShape;
  readonly response: Record<string, unknown>;
  /** AdminService calls: `adminPassword` must be the caller's own password. */
  readonly admin: boolean;
  /** The route's body limit when it is not the API's ordinary one. */
  readonly bodyBytes?: number;
  /** `body` is the decoded request. */
  run(call: VssmCall, body: unknown): Promise<unknown>;
}

interface TypedRoute<S extends MessageShape> extends Omit<VssmRoute, 'request' | 'run'> {
  readonly request: S;
  run(call: VssmCall, body: Decoded<S>): Promise<unknown>;
}

/** Types one route's body; sound because the handler decodes with the same shape. */
function route<S extends MessageShape>(typed: TypedRoute<S>): VssmRoute {
  return { ...typed, run: (call, body) => typed.run(call, body as Decoded<S>) };
}

function routeTable(ctx: RouteContext): readonly VssmRoute[] {
  return [
    route({ path: 'symmetric/encrypt', summary: 'SymmetricEncrypt: AES/GCM/NoPadding', request: M.SYMMETRIC_REQUEST, response: M.OUTPUT_RESPONSE, admin: false, run: symmetricEncrypt }),
    route({ path: 'symmetric/decrypt', summary: 'SymmetricDecrypt', request: M.SYMMETRIC_REQUEST, response: M.OUTPUT_RESPONSE, admin: false, run: symmetricDecrypt }),
    route({ path: 'asymmetric/encrypt', summary: 'AsymmetricEncrypt: RSA-OAEP', request: M.ASYMMETRIC_REQUEST, response: M.OUTPUT_RESPONSE, admin: false, run: asymmetricEncrypt }),
    route({ path: 'asymmetric/decrypt', summary: 'AsymmetricDecrypt: RSA-OAEP', request: M.ASYMMETRIC_REQUEST, response: M.OUTPUT_RESPONSE, admin: false, run: asymmetricDecrypt }),
    route({ path: 'asymmetric/sign', summary: 'AsymmetricSign: input, or its digest as hashed', request: M.SIGN_REQUEST, response: M.OUTPUT_RESPONSE, admin: false, run: asymmetricSign }),
    route({ path: 'asymmetric/verify', summary: 'AsymmetricVerify', request: M.VERIFY_REQUEST, response: M.VALID_RESPONSE, admin: false, run: asymmetricVerify }),
    route({ path: 'hmac/create', summary: 'HmacCreate', request: M.HMAC_CREATE_REQUEST, response: M.OUTPUT_RESPONSE, admin: false, run: hmacCreate }),
    route({ path: 'hmac/verify', summary: 'HmacVerify (constant time)', request: M.HMAC_VERIFY_REQUEST, response: M.VALID_RESPONSE, admin: false, run: hmacVerify }),
    route({ path: 'admin/generatekey', summary: 'GenerateKey in the caller’s default project', request: M.GENERATE_KEY_REQUEST, response: M.EMPTY_MESSAGE, admin: true, run: generateKey }),
    route({ path: 'admin/injectkey', summary: 'InjectKey: raw symmetric/MAC bytes or PKCS#8', request: M.INJECT_KEY_REQUEST, response: M.EMPTY_MESSAGE, admin: true, run: injectKey }),
    route({ path: 'admin/listkeys', summary: 'ListKeys of the caller’s default project', request: M.LIST_KEYS_REQUEST, response: M.LIST_KEYS_RESPONSE, admin: true, run: listKeys }),
    route({
      path: 'admin/getlogs', summary: 'GetLogs: audit entries the caller may see', request: M.GET_LOGS_REQUEST, response: M.GET_LOGS_RESPONSE, admin: true,
      run: async (call) => {
        let log: string[];
        try {
          log = await visibleLogLines(ctx.services.node.journalPath, call.principal);
        } catch (error) {
          return call.audit.checked(() => {
            throw error;
          });
        }
        await call.audit.allowed({ entries: log.length });
        return { log };
      },
    }),
    route({
      path: 'admin/generatebackup', summary: 'GenerateBackup: a new Coffer backup, inline (officers)', request: M.GENERATE_BACKUP_REQUEST, response: M.GENERATE_BACKUP_RESPONSE, admin: true,
      run: (call, body) => generateBackup(ctx.services, call, ctx.limits.inlineBackupBytes, body),
    }),
    route({
      path: 'admin/restorebackup', summary: 'RestoreBackup: merge a Coffer backup given inline (officers; quorum where the policy covers backup.restore)',
      request: M.RESTORE_BACKUP_REQUEST, response: M.EMPTY_MESSAGE, admin: true,
      bodyBytes: restoreBackupBodyBytes(ctx.limits.inlineBackupBytes, ctx.limits.bodyBytes),
      run: (call, body) => restoreBackupBlob(ctx.services, call, ctx.limits.inlineBackupBytes, body),
    }),
  ];
}

function adminPasswordOf(body: unknown): string {
  const value = (body as { readonly adminPassword?: unknown }).adminPassword;
  return typeof value === 'string' ? value : '';
}

export function vssmRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const r of routeTable(ctx)) {
    const operation = r.path.replace('/', '.');
    app.post(`/REST/v1/${r.path}`, {
      bodyLimit: r.bodyBytes ?? ctx.limits.bodyBytes,
      schema: { summary: r.summary, tags: ['vssm'], body: messageSchema(r.request), response: withErrors({ 200: r.response }) },
      // proto3 JSON accepts .proto field names too; they become the JSON names before validation.
      preValidation: (request, _reply, done) => {
        try {
          request.body = normaliseFieldNames(r.request, request.body);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    }, async (request) => {
      const principal = principalOf(request);
      const caller = callerOfRequest(request);
      const audit = vssmAuditor(ctx.services, caller, operation);
      const body = await audit.checked(() => decodeMessage(r.request, request.body));
      if (r.admin) await verifyAdminPassword(ctx.services, request, principal, adminPasswordOf(body));
      return r.run({ engine: ctx.services.engine, principal, caller, audit }, body);
    });
  }
}
