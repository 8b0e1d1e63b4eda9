// /v1/principals and /v1/projects: officers manage principals and projects through the directory,
// which authorises and audits each call. Where the quorum policy covers an operation's class, its
// direct form here is refused (QUORUM_REQUIRED, audited) before anything else: it runs only through
// a quorum token (/v1/quorum).
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../core/engine/index.ts';
import type { CertificateBinding, PrincipalStatus } from '../identity/identity-types.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { certificateBindingSchema, nameSchema, principalSchema, projectSchema, withErrors } from './schemas.ts';

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: nameSchema('The `next` cursor of the previous page'),
    limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'Page size, 1-1000 (default 100)' },
  },
} as const;
const DEFAULT_PAGE = 100;

function listOptions(query: { after?: string; limit?: string }): { after?: string; limit: number } {
  return { ...(query.after === undefined ? {} : { after: query.after }), limit: query.limit === undefined ? DEFAULT_PAGE : Number(query.limit) };
}

/** A full page may have a successor: its last name is the cursor (the directory pages by name). */
function pageOf<K extends string, T extends { readonly name: string }>(key: K, items: readonly T[], limit: number): Record<K, readonly T[]> & { next?: string } {
  const last = items.at(-1);
  return { [key]: items, ...(items.length === limit && last !== undefined ? { next: last.name } : {}) } as Record<K, readonly T[]> & { next?: string };
}
const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const NO_CONTENT = withErrors({ 204: { type: 'null' } });

const nameParams = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: nameSchema('Name') } } as const;
const projectParams = { type: 'object', additionalProperties: false, required: ['project'], properties: { project: nameSchema('Project') } } as const;
const certificates = { type: 'array', maxItems: 16, items: certificateBindingSchema } as const;
const projects = { type: 'array', maxItems: 256, items: nameSchema('Project') } as const;

const createPrincipalBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: {
    name: nameSchema('Principal name'),
    role: { type: 'string', enum: ['officer', 'user', 'auditor', 'service'] },
    projects,
    defaultProject: nameSchema('Project a key name without a project resolves to'),
    certificates,
    password: PASSWORD,
  },
} as const;

const updatePrincipalBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { projects, defaultProject: nameSchema('Default project'), status: { type: 'string', enum: ['ACTIVE', 'DISABLED'] }, certificates },
} as const;

interface CreatePrincipalBody {
  name: string; role: Role; projects?: string[]; defaultProject?: string; certificates?: CertificateBinding[]; password?: string;
}
interface UpdatePrincipalBody { projects?: string[]; defaultProject?: string; status?: PrincipalStatus; certificates?: CertificateBinding[] }

export function principalRoutes(app: FastifyInstance, { services }: RouteContext): void {
  const tags = ['principals'];
  app.post<{ Body: CreatePrincipalBody }>('/v1/principals', {
    schema: { summary: 'Create a principal (officers)', tags, body: createPrincipalBody, response: withErrors({ 201: principalSchema }) },
  }, async (request, reply) => {
    const caller = callerOfRequest(request);
    await services.quorum().requireUnguarded(caller, 'principal.create', { operation: 'principal.create', target: request.body.name });
    return reply.code(201).send(await (await services.directory()).createPrincipal(caller, request.body));
  });

  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/principals', {
    schema: {
      summary: 'List principals, by name', tags,
      querystring: listQuery,
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['principals'], properties: { principals: { type: 'array', items: principalSchema }, next: { type: 'string' } } } }),
    },
  }, async (request) => {
    const options = listOptions(request.query);
    return pageOf('principals', await (await services.directory()).listPrincipals(callerOfRequest(request), options), options.limit);
  });

  app.get<{ Params: { name: string } }>('/v1/principals/:name', {
    schema: { summary: 'One principal', tags, params: nameParams, response: withErrors({ 200: principalSchema }) },
  }, async (request) => (await services.directory()).getPrincipal(callerOfRequest(request), request.params.name));

  app.patch<{ Params: { name: string }; Body: UpdatePrincipalBody }>('/v1/principals/:name', {
    schema: { summary: "Change a principal's projects, status or certificates", tags, params: nameParams, body: updatePrincipalBody, response: withErrors({ 200: principalSchema }) },
  }, async (request) => {
    const caller = callerOfRequest(request);
    await services.quorum().requireUnguarded(caller, 'principal.role-change', { operation: 'principal.update', target: request.params.name });
    return (await services.directory()).updatePrincipal(caller, request.params.name, request.body);
  });

  app.put<{ Params: { name: string }; Body: { password: string } }>('/v1/principals/:name/password', {
    schema: {
      summary: "Set a principal's password", tags, params: nameParams,
      body: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: PASSWORD } },
      response: NO_CONTENT,
    },
  }, async (request, reply) => {
    const caller = callerOfRequest(request);
    // Only a reset of another principal's password is guarded; changing one's own never is.
    if (caller.principal !== request.params.name) {
      await services.quorum().requireUnguarded(caller, 'principal.password-reset', { operation: 'principal.set-password', target: request.params.name });
    }
    await (await services.directory()).setPassword(caller, request.params.name, request.body.password);
    return reply.code(204).send();
  });

  app.delete<{ Params: { name: string } }>('/v1/principals/:name', {
    schema: { summary: 'Delete a principal', tags, params: nameParams, response: NO_CONTENT },
  }, async (request, reply) => {
    const caller = callerOfRequest(request);
    await services.quorum().requireUnguarded(caller, 'principal.delete', { operation: 'principal.delete', target: request.params.name });
    await (await services.directory()).deletePrincipal(caller, request.params.name);
    return reply.code(204).send();
  });
}

export function projectRoutes(app: FastifyInstance, { services }: RouteContext): void {
  const tags = ['projects'];
  app.post<{ Body: { name: string; description?: string } }>('/v1/projects', {
    schema: {
      summary: 'Create a project (officers)', tags,
      body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: nameSchema('Project name'), description: { type: 'string', maxLength: 1024 } } },
      response: withErrors({ 201: projectSchema }),
    },
  }, async (request, reply) => reply.code(201).send(await (await services.directory()).createProject(callerOfRequest(request), request.body)));

  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/projects', {
    schema: {
      summary: 'List the projects visible to the caller, by name', tags, querystring: listQuery,
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['projects'], properties: { projects: { type: 'array', items: projectSchema }, next: { type: 'string' } } } }),
    },
  }, async (request) => {
    const options = listOptions(request.query);
    return pageOf('projects', await (await services.directory()).listProjects(callerOfRequest(request), options), options.limit);
  });

  app.get<{ Params: { project: string } }>('/v1/projects/:project', {
    schema: { summary: 'One project', tags, params: projectParams, response: withErrors({ 200: projectSchema }) },
  }, async (request) => (await services.directory()).getProject(callerOfRequest(request), request.params.project));

  app.delete<{ Params: { project: string } }>('/v1/projects/:project', {
    schema: { summary: 'Delete an empty project (PROJECT_NOT_EMPTY while it holds keys)', tags, params: projectParams, response: NO_CONTENT },
  }, async (request, reply) => {
    const caller = callerOfRequest(request);
    await services.quorum().requireUnguarded(caller, 'project.delete', { operation: 'project.delete', target: request.params.project });
    await (await services.directory()).deleteProject(caller, request.params.project, (project) => services.keys.projectHasKeys(project));
    return reply.code(204).send();
  });
}
