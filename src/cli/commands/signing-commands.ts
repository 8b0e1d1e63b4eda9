// coffer signing …: the signing service through its SDK (SignerClient): projects, members, profiles,
// uploads with a progress bar, jobs, their outputs and stats; approvals go to Coffer itself, signed
// here exactly as `coffer approve yes|no` signs them.
import { basename, dirname, join } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { CofferError } from '../../core/errors.ts';
import { SignerClient, type JobView, type SignedOutput } from '../../signing/client/index.ts';
import { Args } from '../args.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { pick } from '../connection.ts';
import { printJson, printTable, show } from '../output.ts';
import { ProgressBar } from '../progress-bar.ts';
import { KEY_USE_COMMANDS } from './key-use-commands.ts';
import { refuseOptions } from './pki-arguments.ts';
import { digestSubmissionOf, jobWaitOf, listJobsQueryOf, memberRolesOf, statsQueryOf, waitOf } from './signing-arguments.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** --signer with its environment fallback; the TLS identity and token are the connection's own. */
export const SIGNER_OPTIONS = { signer: { type: 'string' } } as const satisfies ParseArgsOptionsConfig;
const SIGNER_HELP = `--signer URL is the signing service (COFFER_SIGNER_URL); --ca, --cert, --key and --token (COFFER_CA, COFFER_CERT,
COFFER_KEY, COFFER_TOKEN) are used for it as for Coffer.`;
const JOB_FIELDS = [
  'jobId', 'project', 'profile', 'state', 'submitter', 'submission', 'fileName', 'size', 'sha256', 'metadata', 'keyUseRequestId', 'checks', 'failure',
  'format', 'algorithm', 'keyId', 'signatureSha256', 'retainedUntil', 'out', 'createdAt', 'updatedAt',
];
const PROFILE_FIELDS = ['project', 'name', 'format', 'key', 'algorithm', 'timeStampKey', 'checks', 'approval', 'allowDigestSubmission', 'retentionDays', 'description', 'updatedAt', 'updatedBy'];
const PROJECT_FIELDS = ['name', 'cofferProject', 'description', 'createdAt', 'createdBy'];
const MEMBER_FIELDS = ['project', 'principal', 'roles', 'updatedAt', 'updatedBy'];

/** Where a signed copy of `file` goes by default: `.signed` before its extension (app.exe → app.signed.exe). */
export function signedCopyName(file: string): string {
  const name = basename(file);
  const dot = name.lastIndexOf('.');
  const signed = dot <= 0 ? `${name}.signed` : `${name.slice(0, dot)}.signed${name.slice(dot)}`;
  return join(dirname(file), signed);
}

/** The signer client for --signer (or COFFER_SIGNER_URL) with the connection's --ca/--cert/--key/--token. */
export function signerFrom(args: Args, env: Env = process.env): SignerClient {
  const url = pick(args, 'signer', env, 'COFFER_SIGNER_URL');
  if (url === undefined) throw new UsageError('no signing service to talk to: pass --signer URL or set COFFER_SIGNER_URL');
  const ca = pick(args, 'ca', env, 'COFFER_CA');
  const cert = pick(args, 'cert', env, 'COFFER_CERT');
  const key = pick(args, 'key', env, 'COFFER_KEY');
  const token = pick(args, 'token', env, 'COFFER_TOKEN');
  return new SignerClient({
    url, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(token === undefined ? {} : { token }),
  });
}

/** Runs with a signer client, closed afterwards so the process can exit. */
async function withSigner<T>(context: CommandContext, run: (signer: SignerClient) => Promise<T>): Promise<T> {
  const signer = signerFrom(context.args);
  try {
    return await run(signer);
  } finally {
    signer.close();
  }
}

/** A job flattened for `field: value` lines. */
function jobFields(job: JobView, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { result, failure, artifact, checks } = job;
  return {
    ...job, ...result, size: artifact.size, fileName: artifact.fileName, sha256: artifact.digests['SHA-256'],
    metadata: Object.keys(artifact.metadata).length === 0 ? undefined : JSON.stringify(artifact.metadata),
    checks: checks?.map((c) => JSON.stringify(c)),
    failure: failure === undefined ? undefined : `${failure.code}: ${failure.message}${failure.check === undefined ? '' : ` (check ${failure.check})`}`,
    ...extra,
  };
}

function showJob(json: boolean, job: JobView, extra: Record<string, unknown> = {}): void {
  if (json) printJson({ ...job, ...extra });
  else show(false, jobFields(job, extra), JOB_FIELDS);
}

function printJobs(json: boolean, jobs: readonly JobView[]): void {
  if (json) printJson(jobs);
  else printTable(jobs, [['JOB', (j) => j.jobId], ['PROFILE', (j) => j.profile], ['STATE', (j) => j.state], ['SUBMITTER', (j) => j.submitter], ['FILE', (j) => j.artifact.fileName], ['CREATED', (j) => j.createdAt]]);
}

/**
 * Prints a job that was waited for; a signed one's output goes to `out` first. Exit 0 only for a
 * signed job; a failed one, or one still running when the wait ended, exits 1.
 */
async function finishWaited(signer: SignerClient, json: boolean, job: JobView, out: (output: SignedOutput) => string | undefined): Promise<number> {
  if (job.state === 'signed') {
    const output = await signer.jobOutput(job.jobId);
    const path = out(output);
    if (path !== undefined) await writeOutput(path, output.bytes);
    showJob(json, job, path === undefined ? {} : { out: path });
    return 0;
  }
  showJob(json, job);
  if (job.state === 'failed') return 1;
  const approval = job.keyUseRequestId === undefined ? '' : `; it waits for approval (coffer signing approve ${job.jobId} --approver-keys FILE)`;
  process.stderr.write(`coffer: job ${job.jobId} is still ${job.state}${approval} (coffer signing job show ${job.jobId} --wait N)\n`);
  return 1;
}

/** Runs `coffer approve yes|no` for the key-use request the job waits on. */
async function decide(context: CommandContext, approve: boolean): Promise<number | undefined> {
  const { args } = context;
  const jobId = args.positional(0, 'job id');
  const keyFile = args.required('approver-keys');
  const reason = args.string('reason');
  const requestId = await withSigner(context, async (signer) => {
    const job = await signer.getJob(jobId);
    if (job.keyUseRequestId === undefined) throw new CofferError('SIGNING_JOB_STATE', `job ${jobId} is ${job.state}: it waits for no approval`);
    return job.keyUseRequestId;
  });
  const name = approve ? 'approve yes' : 'approve no';
  const keyUse = KEY_USE_COMMANDS.find((c) => c.name === name);
  if (keyUse === undefined) throw new CofferError('INTERNAL_ERROR', `the ${name} command is missing`);
  process.stderr.write(`coffer: job ${jobId} waits on key-use request ${requestId}\n`);
  const delegated = new Args({ 'key-file': keyFile, ...(reason === undefined ? {} : { reason }) }, [requestId]);
  return keyUse.run({ args: delegated, json: context.json, client: context.client });
}

async function projectAction(context: CommandContext): Promise<number | undefined> {
  const { args, json } = context;
  const action = args.positional(0, 'action (create, list, show or delete)');
  if (action !== 'create') refuseOptions(args, ['coffer-project', 'description'], `signing project ${action}`);
  return withSigner(context, async (signer) => {
    if (action === 'create') {
      const cofferProject = args.string('coffer-project');
      const description = args.string('description');
      show(json, await signer.createProject({
        name: args.positional(1, 'project name'), ...(cofferProject === undefined ? {} : { cofferProject }), ...(description === undefined ? {} : { description }),
      }), PROJECT_FIELDS);
    } else if (action === 'list') {
      const projects = await signer.listProjects();
      if (json) printJson(projects);
      else printTable(projects, [['NAME', (p) => p.name], ['COFFER PROJECT', (p) => p.cofferProject], ['CREATED', (p) => p.createdAt], ['DESCRIPTION', (p) => p.description]]);
    } else if (action === 'show') show(json, await signer.getProject(args.positional(1, 'project name')), PROJECT_FIELDS);
    else if (action === 'delete') await signer.deleteProject(args.positional(1, 'project name'));
    else throw new UsageError(`signing project takes create, list, show or delete, not ${JSON.stringify(action)}`);
    return 0;
  });
}

async function memberAction(context: CommandContext): Promise<number | undefined> {
  const { args, json } = context;
  const action = args.positional(0, 'action (set, remove or list)');
  if (action !== 'set') refuseOptions(args, ['roles'], `signing member ${action}`);
  return withSigner(context, async (signer) => {
    const project = args.positional(1, 'project');
    if (action === 'set') show(json, await signer.setMember(project, args.positional(2, 'principal'), memberRolesOf(args)), MEMBER_FIELDS);
    else if (action === 'remove') await signer.removeMember(project, args.positional(2, 'principal'));
    else if (action === 'list') {
      const members = await signer.listMembers(project);
      if (json) printJson(members);
      else printTable(members, [['PRINCIPAL', (m) => m.principal], ['ROLES', (m) => m.roles], ['UPDATED', (m) => m.updatedAt], ['BY', (m) => m.updatedBy]]);
    } else throw new UsageError(`signing member takes set, remove or list, not ${JSON.stringify(action)}`);
    return 0;
  });
}

async function profileJson(path: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readInput(path)).toString('utf8'));
  } catch (error) {
    if (error instanceof CofferError) throw error;
    throw new UsageError(`${path === '-' ? 'standard input' : path} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('the profile is a JSON object');
  return parsed as Record<string, unknown>;
}

async function profileAction(context: CommandContext): Promise<number | undefined> {
  const { args, json } = context;
  const action = args.positional(0, 'action (put, list, show or delete)');
  if (action !== 'put') refuseOptions(args, ['file'], `signing profile ${action}`);
  return withSigner(context, async (signer) => {
    const project = args.positional(1, 'project');
    if (action === 'put') {
      const body = await profileJson(args.required('file'));
      show(json, await signer.putProfile(project, args.positional(2, 'profile name'), body), PROFILE_FIELDS);
    } else if (action === 'list') {
      const profiles = await signer.listProfiles(project);
      if (json) printJson(profiles);
      else printTable(profiles, [['NAME', (p) => p.name], ['FORMAT', (p) => p.format], ['KEY', (p) => p.key], ['APPROVAL', (p) => (p.approval === undefined ? '' : `${p.approval.threshold} of ${p.approval.approvers.join(',')}`)], ['DIGESTS', (p) => p.allowDigestSubmission]]);
    } else if (action === 'show') {
      const profile = await signer.getProfile(project, args.positional(2, 'profile name'));
      show(json, { ...profile, checks: profile.checks.map((c) => JSON.stringify(c)), approval: profile.approval === undefined ? undefined : JSON.stringify(profile.approval) }, PROFILE_FIELDS);
    } else if (action === 'delete') await signer.deleteProfile(project, args.positional(2, 'profile name'));
    else throw new UsageError(`signing profile takes put, list, show or delete, not ${JSON.stringify(action)}`);
    return 0;
  });
}

/** The options of `signing job` that belong to its other actions. */
const JOB_FOREIGN_OPTIONS: Readonly<Record<string, readonly string[]>> = { show: ['limit', 'state', 'out'], list: ['wait', 'out'], output: ['wait', 'limit', 'state'] };

async function jobAction(context: CommandContext): Promise<number | undefined> {
  const { args, json } = context;
  const action = args.positional(0, 'action (show, list or output)');
  refuseOptions(args, JOB_FOREIGN_OPTIONS[action] ?? [], `signing job ${action}`);
  return withSigner(context, async (signer) => {
    if (action === 'show') {
      const jobId = args.positional(1, 'job id');
      const wait = jobWaitOf(args);
      showJob(json, wait === undefined ? await signer.getJob(jobId) : await signer.waitForJob(jobId, wait));
    } else if (action === 'list') {
      const after = args.string('after');
      const page = await signer.listJobsPage(args.positional(1, 'project'), { ...listJobsQueryOf(args), ...(after === undefined ? {} : { after }) });
      if (json) printJson(page);
      else {
        printJobs(false, page.jobs);
        if (page.next !== undefined) process.stderr.write(`more: --after ${page.next}\n`);
      }
    }
    else if (action === 'output') {
      const output = await signer.jobOutput(args.positional(1, 'job id'));
      await writeOutput(args.string('out'), output.bytes);
    } else throw new UsageError(`signing job takes show, list or output, not ${JSON.stringify(action)}`);
    return 0;
  });
}

const SUBMIT_OPTIONS = {
  meta: { type: 'string', multiple: true }, 'file-name': { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' }, out: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const SIGNING_COMMANDS: readonly Command[] = [
  {
    name: 'signing whoami', synopsis: '[--signer URL]', summary: 'who the signing service takes you for, and your roles in its projects',
    details: SIGNER_HELP, options: SIGNER_OPTIONS,
    run: (context) => withSigner(context, async (signer) => {
      const me = await signer.whoami();
      if (context.json) printJson(me);
      else show(false, { ...me, projects: me.projects.map((p) => `${p.project}:${p.roles.join('+')}`) }, ['principal', 'authenticatedBy', 'admin', 'auditor', 'projects']);
      return 0;
    }),
  },
  {
    name: 'signing project', synopsis: 'create NAME [--coffer-project P] [--description D]  |  list  |  show NAME  |  delete NAME',
    summary: 'signing projects: create and delete (signer admins), list and show',
    details: `create: --coffer-project is the Coffer project whose keys its profiles may name (default: the same name).\ndelete: only a project without profiles.\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, 'coffer-project': { type: 'string' }, description: { type: 'string' } },
    run: projectAction,
  },
  {
    name: 'signing member', synopsis: 'set PROJECT PRINCIPAL --roles admin,submitter,approver  |  remove PROJECT PRINCIPAL  |  list PROJECT',
    summary: "a project's members and their roles (project admins)",
    details: `Roles: admin (members and profiles), submitter (uploads and jobs), approver (sees what waits for approval).\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, roles: { type: 'string' } },
    run: memberAction,
  },
  {
    name: 'signing profile', synopsis: 'put PROJECT NAME --file FILE|-  |  list PROJECT  |  show PROJECT NAME  |  delete PROJECT NAME',
    summary: "a project's signing profiles: format, key, checks, approval, retention",
    details: `put: creates or replaces the profile from its JSON (from FILE, or standard input with -).\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, file: { type: 'string' } },
    run: profileAction,
  },
  {
    name: 'signing submit', synopsis: 'PROJECT PROFILE FILE [--meta k=v]… [--file-name N] [--wait [--timeout S]] [--out F] [--no-progress]',
    summary: 'upload a file (streamed, resumed after a failure) and submit it for signing',
    details: `Progress goes to standard error: a bar on a terminal, else one summary line (--no-progress: none). Without --wait the job is printed (its id and state).
--wait waits up to --timeout seconds (default 600) for the job to be signed, then writes the signed output to --out
(default FILE with the format's suffix, e.g. app.tar.sig; for formats that sign inside the file, a copy such as app.signed.exe); exit 1 when the job failed or still waits.
e.g.   coffer signing submit acme release app.tar --meta commit=3f2a9c --wait\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, ...SUBMIT_OPTIONS, 'no-progress': { type: 'boolean' } },
    run: async (context) => {
      const { args, json } = context;
      const [project, profile, file] = [args.positional(0, 'project'), args.positional(1, 'profile'), args.positional(2, 'file')];
      const wait = waitOf(args);
      if (wait === undefined && args.string('out') !== undefined) throw new UsageError('--out goes with --wait');
      const metadata = args.map('meta');
      const fileName = args.string('file-name');
      return await withSigner(context, async (signer) => {
        const bar = args.flag('no-progress') ? undefined : new ProgressBar(process.stderr);
        let job: JobView;
        try {
          const upload = await signer.uploadFile(project, profile, file, {
            ...(metadata === undefined ? {} : { metadata }), ...(fileName === undefined ? {} : { fileName }),
            ...(bar === undefined ? {} : { onProgress: (sent: number, total: number) => { bar.update(sent, total); } }),
          });
          bar?.finish();
          job = await signer.submitJob(project, { profile, uploadId: upload.uploadId });
        } catch (error) {
          bar?.abandon();
          throw error;
        }
        if (wait === undefined) {
          showJob(json, job);
          return 0;
        }
        const out = args.string('out');
        return finishWaited(signer, json, await signer.waitForJob(job.jobId, wait), (output) => {
          if (out !== undefined) return out;
          // A detached signature goes beside the file; a signed file (Authenticode, JAR) is a copy, never written over the input.
          return output.suffix === '' ? signedCopyName(file) : `${file}${output.suffix}`;
        });
      });
    },
  },
  {
    name: 'signing submit-digest', synopsis: 'PROJECT PROFILE --digest HEX [--hash SHA256|SHA384|SHA512] --size N [--meta k=v]… [--file-name N] [--wait [--timeout S]] [--out F]',
    summary: 'submit a digest computed here instead of the file (where the profile allows it)',
    details: `--size is the file's size in bytes. --wait waits up to --timeout seconds (default 600) and writes the signed output to --out
(else only the job is printed).\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, ...SUBMIT_OPTIONS, digest: { type: 'string' }, hash: { type: 'string' }, size: { type: 'string' } },
    run: async (context) => {
      const { args, json } = context;
      const project = args.positional(0, 'project');
      const request = digestSubmissionOf(args, args.positional(1, 'profile'));
      const wait = waitOf(args);
      if (wait === undefined && args.string('out') !== undefined) throw new UsageError('--out goes with --wait');
      return await withSigner(context, async (signer) => {
        const job = await signer.submitJob(project, request);
        if (wait === undefined) {
          showJob(json, job);
          return 0;
        }
        return finishWaited(signer, json, await signer.waitForJob(job.jobId, wait), () => args.string('out'));
      });
    },
  },
  {
    name: 'signing job', synopsis: 'show ID [--wait S]  |  list PROJECT [--limit N] [--state S] [--after JOB_ID]  |  output ID [--out F]',
    summary: 'a job (long-polled with --wait), a project\'s jobs newest first, or a signed job\'s output (to --out or standard output)',
    details: `--state: checking, awaiting-approval, signing, signed or failed. --limit: 1 to 1000. --after: the cursor a previous
list printed ("more: --after ID"), for the next page.\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, wait: { type: 'string' }, limit: { type: 'string' }, state: { type: 'string' }, after: { type: 'string' }, out: { type: 'string' } },
    run: jobAction,
  },
  {
    name: 'signing find', synopsis: 'PROJECT SHA256', summary: 'the jobs that signed the artifact with this SHA-256',
    details: SIGNER_HELP, options: SIGNER_OPTIONS,
    run: async (context) => {
      const project = context.args.positional(0, 'project');
      const sha256 = context.args.positional(1, 'SHA-256 of the artifact (hex)');
      if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new UsageError('the artifact digest is a SHA-256 in hex (64 digits)');
      return await withSigner(context, async (signer) => {
        printJobs(context.json, await signer.findByArtifact(project, sha256.toLowerCase()));
        return 0;
      });
    },
  },
  {
    name: 'signing stats', synopsis: '[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--project P] [--profile P] [--path service|direct] [--outcome signed|failed] [--group-by day,project,…]',
    summary: 'signatures counted: by the service and by builders signing directly (their telemetry)',
    details: `--group-by: day, project, profile, node, path, outcome (comma-separated).\n${SIGNER_HELP}`,
    options: {
      ...SIGNER_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, project: { type: 'string' }, profile: { type: 'string' }, path: { type: 'string' },
      outcome: { type: 'string' }, 'group-by': { type: 'string' },
    },
    run: async (context) => {
      const query = statsQueryOf(context.args);
      return await withSigner(context, async (signer) => {
        const stats = await signer.stats(query);
        if (context.json) {
          printJson(stats);
          return 0;
        }
        process.stdout.write(`from ${stats.from} to ${stats.to}\n`);
        const dimensions = stats.groupBy.map((d) => [d.toUpperCase(), (row: (typeof stats.rows)[number]) => row[d]] as const);
        printTable(stats.rows, [...dimensions, ['COUNT', (r) => r.count], ['BYTES', (r) => r.bytes], ['DURATION MS', (r) => r.durationMs]]);
        return 0;
      });
    },
  },
  {
    name: 'signing approve', synopsis: 'JOB_ID --approver-keys FILE', summary: 'approve the Coffer key-use request a job waits on (as `coffer approve yes`)',
    details: `The job's key-use request is read from the signing service; the approval is signed here and sent to Coffer (--url / COFFER_URL).\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, 'approver-keys': { type: 'string' } },
    run: (context) => decide(context, true),
  },
  {
    name: 'signing reject', synopsis: 'JOB_ID --approver-keys FILE [--reason R]', summary: 'reject the Coffer key-use request a job waits on (as `coffer approve no`)',
    details: `The job's key-use request is read from the signing service; the rejection is signed here and sent to Coffer (--url / COFFER_URL).\n${SIGNER_HELP}`,
    options: { ...SIGNER_OPTIONS, 'approver-keys': { type: 'string' }, reason: { type: 'string' } },
    run: (context) => decide(context, false),
  },
];
