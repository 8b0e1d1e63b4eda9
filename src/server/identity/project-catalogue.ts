// Projects: created and deleted by officers, seen by officers and auditors in full and by everyone
// else only where they are members. A project with members or keys is not deleted.
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { Caller } from '../../core/engine/index.ts';
import { checkList, type DirectoryContext, type ListOptions } from './directory-context.ts';
import { toProject, type ProjectRecord } from './identity-records.ts';
import type { Project } from './identity-types.ts';
import { checkDescription, checkName, isName } from './identity-validation.ts';
import { canSeeProject, requireOfficer, seesAll } from './principal-authorization.ts';
import { writes } from './sealed-identity-store.ts';

export interface CreateProjectInput {
  readonly name: string;
  readonly description?: string;
}

/** Asked after authorisation (the server answers from the key engine): a project with keys is not deleted. */
export type ProjectHasKeys = (project: string) => boolean | Promise<boolean>;

function projectNotFound(): CofferError {
  return new CofferError('PROJECT_NOT_FOUND', 'project not found');
}

export class ProjectCatalogue {
  readonly #context: DirectoryContext;

  constructor(context: DirectoryContext) {
    this.#context = context;
  }

  async create(actor: Caller, input: CreateProjectInput): Promise<Project> {
    const context = this.#context;
    context.requireUnsealed();
    return context.audit.run(context.call(actor, 'project.create'), {}, async (scope) => {
      requireOfficer(actor, 'create projects');
      const name = checkName(input.name, 'project');
      scope.project = name;
      const record: ProjectRecord = {
        name,
        ...(input.description === undefined ? {} : { description: checkDescription(input.description) }),
        createdAt: context.now(),
      };
      try {
        await context.commit([writes.project(record, 0)]);
      } catch (error) {
        if (isCofferError(error, 'STORE_CONFLICT')) throw new CofferError('PROJECT_ALREADY_EXISTS', 'a project with this name already exists');
        throw error;
      }
      return toProject(record);
    });
  }

  async get(actor: Caller, name: string): Promise<Project> {
    const context = this.#context;
    context.requireUnsealed();
    return context.audit.run(context.call(actor, 'project.get'), {}, async (scope) => {
      checkName(name, 'project');
      scope.project = name;
      const found = await context.records.project(name);
      if (found === undefined) throw projectNotFound();
      if (!canSeeProject(actor, name)) {
        scope.hiddenDenial = true;
        throw projectNotFound();
      }
      return toProject(found.value);
    });
  }

  async list(actor: Caller, options: ListOptions): Promise<Project[]> {
    const context = this.#context;
    context.requireUnsealed();
    return context.audit.run(context.call(actor, 'project.list'), {}, async (scope) => {
      const { after, limit } = checkList(options, 'project');
      let found: ProjectRecord[];
      if (seesAll(actor)) {
        found = await context.records.projects(after, limit);
      } else {
        found = [];
        const own = [...new Set(actor.projects)].filter((p) => isName(p) && (after === undefined || p > after)).sort();
        for (const name of own) {
          if (found.length >= limit) break;
          const project = await context.records.project(name);
          if (project !== undefined) found.push(project.value);
        }
      }
      scope.detail['count'] = found.length;
      return found.map(toProject);
    });
  }

  async delete(actor: Caller, name: string, hasKeys: ProjectHasKeys | undefined): Promise<void> {
    const context = this.#context;
    context.requireUnsealed();
    await context.audit.run(context.call(actor, 'project.delete'), {}, async (scope) => {
      requireOfficer(actor, 'delete projects');
      checkName(name, 'project');
      scope.project = name;
      await context.retrying(async () => {
        const current = await context.records.project(name);
        if (current === undefined) throw projectNotFound();
        for await (const principal of context.records.allPrincipals()) {
          if (principal.projects.includes(name)) throw new CofferError('PROJECT_NOT_EMPTY', 'the project still has members');
        }
        if (hasKeys !== undefined && await hasKeys(name)) throw new CofferError('PROJECT_NOT_EMPTY', 'the project still has keys');
        // Adding a member rewrites the project (DirectoryContext.projectTouches), so a member added
        // since the scan makes this compare-and-set fail rather than leave a member of a deleted project.
        await context.commit([writes.deleteProject(name, current.version)]);
      });
    });
  }
}
