// coffer login | logout | whoami, coffer principals …, coffer projects …
import { readFile } from 'node:fs/promises';
import type { CertificateBinding, Principal, Project, Role } from '../../client/index.ts';
import { ROLES } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Args } from '../args.ts';
import { readSecretLine } from '../byte-io.ts';
import { UsageError, type Command } from '../command.ts';
import { printJson, printTable, show } from '../output.ts';

const PRINCIPAL_FIELDS = ['name', 'id', 'role', 'status', 'projects', 'defaultProject', 'certificates', 'hasPassword', 'createdAt', 'updatedAt'];
const PROJECT_FIELDS = ['name', 'description', 'createdAt'];
const PASSWORD_HELP = 'the password is read from --password-file, or from standard input';

/** --bind-cert FILE (its fingerprint is computed here) and --fingerprint HEX, both repeatable. */
async function certificatesOf(args: Args): Promise<CertificateBinding[] | undefined> {
  const files = args.strings('bind-cert');
  const fingerprints = args.strings('fingerprint').map((f) => ({ fingerprint: f.replaceAll(':', '').toLowerCase() }));
  if (files.length === 0 && fingerprints.length === 0) return undefined;
  // Loaded only when needed: the certificate parser is heavy for a command-line start.
  const { certificateFingerprint } = await import('../../pki/index.ts');
  const fromFiles = await Promise.all(files.map(async (file) => {
    let pem: Buffer;
    try {
      pem = await readFile(file);
    } catch (error) {
      throw new CofferError('INVALID_ARGUMENT', `cannot read ${file}`, { cause: error });
    }
    return { fingerprint: certificateFingerprint(pem) };
  }));
  return [...fromFiles, ...fingerprints];
}

function membership(args: Args): { projects?: string[]; defaultProject?: string } {
  const projects = args.strings('project');
  const defaultProject = args.string('default-project');
  return { ...(projects.length === 0 ? {} : { projects }), ...(defaultProject === undefined ? {} : { defaultProject }) };
}

const MEMBERSHIP = { project: { type: 'string', multiple: true }, 'default-project': { type: 'string' }, 'bind-cert': { type: 'string', multiple: true }, fingerprint: { type: 'string', multiple: true } } as const;

function printPrincipals(json: boolean, principals: readonly Principal[]): void {
  if (json) printJson(principals);
  else printTable(principals, [['NAME', (p) => p.name], ['ROLE', (p) => p.role], ['STATUS', (p) => p.status], ['PROJECTS', (p) => p.projects], ['CERTIFICATES', (p) => p.certificates.length], ['PASSWORD', (p) => (p.hasPassword ? 'yes' : 'no')]]);
}

export const AUTH_COMMANDS: readonly Command[] = [
  {
    name: 'login', synopsis: '<name> [--password-file FILE]', summary: `log in with a password and print a bearer token (${PASSWORD_HELP})`,
    options: { 'password-file': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const issued = await client().auth.login(args.positional(0, 'principal name'), await readSecretLine(args.string('password-file')));
      if (json) printJson(issued);
      else process.stdout.write(`${issued.token}\n`);
      return undefined;
    },
  },
  {
    name: 'logout', synopsis: '', summary: 'revoke the bearer token given with --token / COFFER_TOKEN',
    run: async ({ client }) => {
      await client().auth.logout();
      return undefined;
    },
  },
  {
    name: 'whoami', synopsis: '', summary: 'the principal you are authenticated as',
    run: async ({ json, client }) => {
      show(json, await client().auth.whoami(), PRINCIPAL_FIELDS);
      return undefined;
    },
  },
];

export const PRINCIPAL_COMMANDS: readonly Command[] = [
  {
    name: 'principals list', synopsis: '', summary: 'every principal (officers, auditors)',
    run: async ({ json, client }) => {
      const principals: Principal[] = [];
      for await (const principal of client().principals.listAll()) principals.push(principal);
      printPrincipals(json, principals);
      return undefined;
    },
  },
  {
    name: 'principals get', synopsis: '<name>', summary: 'one principal',
    run: async ({ args, json, client }) => {
      show(json, await client().principals.get(args.positional(0, 'principal name')), PRINCIPAL_FIELDS);
      return undefined;
    },
  },
  {
    name: 'principals create', synopsis: '<name> --role ROLE [--project P]… [--default-project P] [--bind-cert FILE]… [--fingerprint HEX]… [--password-file FILE]',
    summary: 'create a principal (officers)',
    options: { role: { type: 'string' }, ...MEMBERSHIP, 'password-file': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const role = args.required('role');
      if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const certificates = await certificatesOf(args);
      const passwordFile = args.string('password-file');
      const principal = await client().principals.create({
        name: args.positional(0, 'principal name'), role: role as Role, ...membership(args),
        ...(certificates === undefined ? {} : { certificates }),
        ...(passwordFile === undefined ? {} : { password: await readSecretLine(passwordFile) }),
      });
      show(json, principal, PRINCIPAL_FIELDS);
      return undefined;
    },
  },
  {
    name: 'principals update', synopsis: '<name> [--project P]… [--default-project P] [--status ACTIVE|DISABLED] [--bind-cert FILE]… [--fingerprint HEX]…',
    summary: "replace a principal's projects, status or certificates (officers)",
    options: { ...MEMBERSHIP, status: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const status = args.string('status');
      if (status !== undefined && status !== 'ACTIVE' && status !== 'DISABLED') throw new UsageError('--status is ACTIVE or DISABLED');
      const certificates = await certificatesOf(args);
      const principal = await client().principals.update(args.positional(0, 'principal name'), {
        ...membership(args), ...(status === undefined ? {} : { status }), ...(certificates === undefined ? {} : { certificates }),
      });
      show(json, principal, PRINCIPAL_FIELDS);
      return undefined;
    },
  },
  {
    name: 'principals delete', synopsis: '<name>', summary: 'delete a principal (officers)',
    run: async ({ args, client }) => {
      await client().principals.delete(args.positional(0, 'principal name'));
      return undefined;
    },
  },
  {
    name: 'principals set-password', synopsis: '<name> [--password-file FILE]', summary: `set a password (officers for anyone, anyone for itself; ${PASSWORD_HELP})`,
    options: { 'password-file': { type: 'string' } },
    run: async ({ args, client }) => {
      await client().principals.setPassword(args.positional(0, 'principal name'), await readSecretLine(args.string('password-file')));
      return undefined;
    },
  },
];

export const PROJECT_COMMANDS: readonly Command[] = [
  {
    name: 'projects list', synopsis: '', summary: 'the projects you can see',
    run: async ({ json, client }) => {
      const projects: Project[] = [];
      for await (const project of client().projects.listAll()) projects.push(project);
      if (json) printJson(projects);
      else printTable(projects, [['NAME', (p) => p.name], ['CREATED', (p) => p.createdAt], ['DESCRIPTION', (p) => p.description]]);
      return undefined;
    },
  },
  {
    name: 'projects get', synopsis: '<name>', summary: 'one project',
    run: async ({ args, json, client }) => {
      show(json, await client().projects.get(args.positional(0, 'project name')), PROJECT_FIELDS);
      return undefined;
    },
  },
  {
    name: 'projects create', synopsis: '<name> [--description D]', summary: 'create a project (officers)',
    options: { description: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const description = args.string('description');
      show(json, await client().projects.create({ name: args.positional(0, 'project name'), ...(description === undefined ? {} : { description }) }), PROJECT_FIELDS);
      return undefined;
    },
  },
  {
    name: 'projects delete', synopsis: '<name>', summary: 'delete an empty project (officers)',
    run: async ({ args, client }) => {
      await client().projects.delete(args.positional(0, 'project name'));
      return undefined;
    },
  },
];
