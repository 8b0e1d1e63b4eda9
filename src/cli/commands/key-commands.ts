// coffer keys …: create, list, describe, life cycle, sharing and public keys.
import { parseKeyRef, type KeyMetadata, type KeyRef, type KeySpec, type KeyState } from '../../client/index.ts';
import { KEY_SPECS, KEY_STATES, KEY_USAGES, type KeyUsage } from '../../core/key-record.ts';
import type { Args } from '../args.ts';
import { writeOutput } from '../byte-io.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { printJson, printTable, show } from '../output.ts';

const KEY_FIELDS = ['id', 'name', 'project', 'owner', 'spec', 'usage', 'state', 'currentVersion', 'minDecryptVersion', 'sharedWith', 'algorithms', 'exportable', 'description', 'deletionDate', 'createdAt', 'updatedAt'];

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
    name: 'keys create', synopsis: '<project/name> --spec SPEC --usage USAGE [--description D] [--tag k=v]… [--exportable]',
    summary: 'create a key (you own it)',
    details: `SPEC:  ${KEY_SPECS.join(', ')}\nUSAGE: ${KEY_USAGES.join(', ')}\ne.g.   coffer keys create dev/release --spec EC_P256 --usage SIGN_VERIFY`,
    options: { project: { type: 'string' }, spec: { type: 'string' }, usage: { type: 'string' }, description: { type: 'string' }, tag: { type: 'string', multiple: true }, exportable: { type: 'boolean' } },
    run: async (context) => {
      const { args } = context;
      const ref = parseKeyRef(keyRefOf(args));
      if ('id' in ref) throw new UsageError('name the new key as project/name (or use --project)');
      const { project, name } = ref;
      const spec = oneOf<KeySpec>(args.required('spec'), KEY_SPECS, '--spec') as KeySpec;
      const usage = oneOf<KeyUsage>(args.required('usage'), KEY_USAGES, '--usage') as KeyUsage;
      const description = args.string('description');
      const tags = args.map('tag');
      const key = await context.client().keys.create({
        project, name, spec, usage,
        ...(description === undefined ? {} : { description }),
        ...(tags === undefined ? {} : { tags }),
        ...(args.flag('exportable') ? { exportable: true } : {}),
      });
      return showKey(context, key);
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
