// coffer keys …: create, list, describe, life cycle, sharing and public keys.
import { parseKeyRef, type ApprovalPolicyRequest, type KeyMetadata, type KeyRef, type KeySpec, type KeyState } from '../../client/index.ts';
import { KEY_SPECS, KEY_STATES, KEY_USAGES, type KeyUsage } from '../../core/key-record.ts';
import type { Args } from '../args.ts';
import { writeOutput } from '../byte-io.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { printJson, printTable, show } from '../output.ts';

const KEY_FIELDS = ['id', 'name', 'project', 'owner', 'spec', 'usage', 'state', 'currentVersion', 'minDecryptVersion', 'sharedWith', 'approval', 'algorithms', 'exportable', 'description', 'deletionDate', 'createdAt', 'updatedAt'];

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${what} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** `project/name`, a key id, or a bare name with --project. */
export function keyRefOf(args: Args, index = 0): KeyRef {
  const ref = args.positional(index, 'key (project/name or key id)');
  const project = args.string('project');
  return project !== undefined && !ref.includes('/') ? { project, name: ref } : ref;
}

/** --approvers/--threshold/--sealed/--rejection-continues as an approval policy; none without --approvers. */
function approvalOf(args: Args): ApprovalPolicyRequest | undefined {
  const list = args.string('approvers');
  if (list === undefined) {
    if (args.string('threshold') !== undefined || args.flag('sealed') || args.flag('rejection-continues')) throw new UsageError('--threshold, --sealed and --rejection-continues need --approvers');
    return undefined;
  }
  const approvers = list.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (approvers.length === 0) throw new UsageError('--approvers lists principal names, comma-separated');
  const threshold = args.integer('threshold', 1, approvers.length);
  if (threshold === undefined) throw new UsageError('--approvers needs --threshold M');
  return { threshold, approvers, ...(args.flag('sealed') ? { sealed: true } : {}), ...(args.flag('rejection-continues') ? { rejectionEnds: false } : {}) };
}

function showKey(context: CommandContext, key: KeyMetadata): number {
  show(context.json, key, KEY_FIELDS);
  return 0;
}

/** rotate, enable, disable, cancel-deletion: a key in, its metadata out. */
function action(name: string, summary: string, run: (context: CommandContext, ref: KeyRef) => Promise<KeyMetadata>): Command {
  return {
    name: `keys ${name}`, synopsis: '<key>', summary, options: { project: { type: 'string' } },
    run: async (context) => showKey(context, await run(context, keyRefOf(context.args))),
  };
}

export const KEY_COMMANDS: readonly Command[] = [
  {
    name: 'keys list', synopsis: '[--project P] [--state S] [--spec S] [--limit N]', summary: "list a project's keys (default: your default project)",
    options: { project: { type: 'string' }, state: { type: 'string' }, spec: { type: 'string' }, limit: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const limit = args.integer('limit', 1, 1_000_000);
      const project = args.string('project');
      const state = oneOf<KeyState>(args.string('state'), KEY_STATES, '--state');
      const spec = oneOf<KeySpec>(args.string('spec'), KEY_SPECS, '--spec');
      const keys: KeyMetadata[] = [];
      for await (const key of client().keys.listAll({ ...(project === undefined ? {} : { project }), ...(state === undefined ? {} : { state }), ...(spec === undefined ? {} : { spec }) })) {
        keys.push(key);
        if (keys.length === limit) break;
      }
      if (json) printJson(keys);
      else printTable(keys, [['NAME', (k) => k.name], ['PROJECT', (k) => k.project], ['SPEC', (k) => k.spec], ['USAGE', (k) => k.usage], ['STATE', (k) => k.state], ['VERSION', (k) => k.currentVersion], ['OWNER', (k) => k.owner], ['ID', (k) => k.id]]);
      return undefined;
    },
  },
  {
    name: 'keys get', synopsis: '<key>', summary: "a key's metadata", options: { project: { type: 'string' } },
    run: async (context) => showKey(context, await context.client().keys.get(keyRefOf(context.args))),
  },
  {
    name: 'keys create',
    synopsis: '<project/name> --spec SPEC --usage USAGE [--description D] [--tag k=v]… [--exportable] [--approvers A,B,… --threshold M [--sealed] [--rejection-continues]]',
    summary: 'create a key (you own it)',
    details: `SPEC:  ${KEY_SPECS.join(', ')}\nUSAGE: ${KEY_USAGES.join(', ')}\n`
      + '--approvers A,B,… --threshold M: every sign, decrypt, unwrap and export then waits for M of them (never you);\n'
      + '  --sealed: the material also needs their released shares (asymmetric keys; every approver registered a share key);\n'
      + '  --rejection-continues: a rejection no longer ends the request by itself.\n'
      + 'e.g.   coffer keys create dev/release --spec EC_P256 --usage SIGN_VERIFY --approvers ann,bob,cy --threshold 2',
    options: {
      project: { type: 'string' }, spec: { type: 'string' }, usage: { type: 'string' }, description: { type: 'string' }, tag: { type: 'string', multiple: true }, exportable: { type: 'boolean' },
      approvers: { type: 'string' }, threshold: { type: 'string' }, sealed: { type: 'boolean' }, 'rejection-continues': { type: 'boolean' },
    },
    run: async (context) => {
      const { args } = context;
      const ref = parseKeyRef(keyRefOf(args));
      if ('id' in ref) throw new UsageError('name the new key as project/name (or use --project)');
      const { project, name } = ref;
      const spec = oneOf<KeySpec>(args.required('spec'), KEY_SPECS, '--spec') as KeySpec;
      const usage = oneOf<KeyUsage>(args.required('usage'), KEY_USAGES, '--usage') as KeyUsage;
      const description = args.string('description');
      const tags = args.map('tag');
      const approval = approvalOf(args);
      const key = await context.client().keys.create({
        project, name, spec, usage,
        ...(description === undefined ? {} : { description }),
        ...(tags === undefined ? {} : { tags }),
        ...(args.flag('exportable') ? { exportable: true } : {}),
        ...(approval === undefined ? {} : { approval }),
      });
      return showKey(context, key);
    },
  },
  {
    name: 'keys set-approval', synopsis: '<key> --approvers A,B,… --threshold M [--sealed] [--rejection-continues]',
    summary: 'add an approval policy to a key that has none (changing one is `coffer use` with change-approvers)',
    options: { project: { type: 'string' }, approvers: { type: 'string' }, threshold: { type: 'string' }, sealed: { type: 'boolean' }, 'rejection-continues': { type: 'boolean' } },
    run: async (context) => {
      const approval = approvalOf(context.args);
      if (approval === undefined) throw new UsageError('--approvers is required');
      return showKey(context, await context.client().keys.setApproval(keyRefOf(context.args), approval));
    },
  },
  action('rotate', 'add a new key version', (c, ref) => c.client().keys.rotate(ref)),
  action('enable', 'enable a disabled key', (c, ref) => c.client().keys.enable(ref)),
  action('disable', 'disable a key (every use refused until enabled)', (c, ref) => c.client().keys.disable(ref)),
  action('cancel-deletion', 'cancel a scheduled deletion (the key comes back disabled)', (c, ref) => c.client().keys.cancelDeletion(ref)),
  {
    name: 'keys schedule-deletion', synopsis: '<key> [--days 7-30]', summary: 'schedule the destruction of a key (default in 30 days)',
    options: { project: { type: 'string' }, days: { type: 'string' } },
    run: async (context) => showKey(context, await context.client().keys.scheduleDeletion(keyRefOf(context.args), context.args.integer('days', 7, 30))),
  },
  {
    name: 'keys share', synopsis: '<key> <principal>', summary: 'let another principal use the key', options: { project: { type: 'string' } },
    run: async (context) => showKey(context, await context.client().keys.share(keyRefOf(context.args), context.args.positional(1, 'principal'))),
  },
  {
    name: 'keys unshare', synopsis: '<key> <principal>', summary: "revoke a principal's use of the key", options: { project: { type: 'string' } },
    run: async (context) => showKey(context, await context.client().keys.unshare(keyRefOf(context.args), context.args.positional(1, 'principal'))),
  },
  {
    name: 'keys public-key', synopsis: '<key> [--version N] [--out FILE]', summary: 'the public key (PEM; --json adds DER as base64)',
    options: { project: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const key = await client().keys.publicKey(keyRefOf(args), args.integer('version', 1, 999_999_999));
      if (json) printJson(key);
      else await writeOutput(args.string('out'), key.pem);
      return undefined;
    },
  },
];
