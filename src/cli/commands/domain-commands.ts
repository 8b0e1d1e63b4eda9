// coffer domain status | init | unseal | seal, coffer custodian keygen | unseal: the security domain's
// life cycle from the custodians' and the first officer's side.
import { readFile, writeFile } from 'node:fs/promises';
import type { UnsealShareEnvelope } from '../../client/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Args } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { printJson, show } from '../output.ts';

const STATUS_FIELDS = ['state', 'nodeId', 'domainId', 'threshold', 'custodians'];

/** What `custodian keygen` writes: the custodian's key pair. Keep it offline; 0600. */
interface CustodianKeyFile {
  readonly name: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `${path} is not a readable ${what}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CofferError('INVALID_ARGUMENT', `${path} is not a ${what}`);
  return parsed as Record<string, unknown>;
}

async function readCustodianKey(path: string): Promise<CustodianKeyFile> {
  const { name, publicKey, privateKey } = await readJson(path, 'custodian key file');
  if (typeof publicKey !== 'string' || typeof privateKey !== 'string') throw new CofferError('INVALID_ARGUMENT', `${path} is not a custodian key file`);
  return { name: typeof name === 'string' ? name : '', publicKey, privateKey };
}

/** --custodian NAME=PUBLICKEY, repeated. */
function custodiansOf(args: Args): { name: string; publicKey: string }[] {
  const entries = args.strings('custodian');
  if (entries.length === 0) throw new UsageError('name at least one --custodian NAME=PUBLICKEY (from `coffer custodian keygen`)');
  return entries.map((entry) => {
    const eq = entry.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--custodian takes NAME=PUBLICKEY, not ${JSON.stringify(entry)}`);
    return { name: entry.slice(0, eq), publicKey: entry.slice(eq + 1) };
  });
}

async function officerFingerprint(args: Args): Promise<string> {
  const fingerprint = args.string('officer-fingerprint');
  const cert = args.string('officer-cert');
  if ((fingerprint === undefined) === (cert === undefined)) throw new UsageError('give exactly one of --officer-cert FILE and --officer-fingerprint HEX');
  if (fingerprint !== undefined) return fingerprint;
  const { certificateFingerprint } = await import('../../pki/index.ts');
  try {
    return certificateFingerprint(await readFile(cert ?? ''));
  } catch (error) {
    if (error instanceof CofferError) throw error;
    throw new CofferError('INVALID_ARGUMENT', `cannot read ${cert ?? ''}`, { cause: error });
  }
}

export const DOMAIN_COMMANDS: readonly Command[] = [
  {
    name: 'domain status', synopsis: '', summary: "the node's domain state",
    run: async ({ json, client }) => {
      show(json, await client().domain.status(), STATUS_FIELDS);
      return undefined;
    },
  },
  {
    name: 'domain init', synopsis: '--custodian NAME=PUBLICKEY… --threshold M --officer NAME (--officer-cert FILE | --officer-fingerprint HEX)',
    summary: 'create the security domain (the node must be uninitialised); the officer is created on the first unseal',
    options: { custodian: { type: 'string', multiple: true }, threshold: { type: 'string' }, officer: { type: 'string' }, 'officer-cert': { type: 'string' }, 'officer-fingerprint': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const custodians = custodiansOf(args);
      const threshold = args.integer('threshold', 1, 16);
      if (threshold === undefined) throw new UsageError('--threshold is required');
      const descriptor = await client().domain.init({
        custodians, threshold, initialOfficer: { name: args.required('officer'), certificateFingerprint: await officerFingerprint(args) },
      });
      if (json) printJson(descriptor);
      else {
        show(false, { domainId: descriptor.domainId, threshold: descriptor.threshold, custodians: descriptor.custodians.map((c) => `${c.name} (${c.id})`) }, ['domainId', 'threshold', 'custodians']);
        process.stdout.write('the node is SEALED: each custodian now runs `coffer custodian unseal --key-file FILE`\n');
      }
      return undefined;
    },
  },
  {
    name: 'domain unseal', synopsis: '[--envelope FILE]', summary: 'show the unseal session, or submit an envelope prepared by a custodian',
    options: { envelope: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const envelope = args.string('envelope');
      if (envelope === undefined) {
        show(json, await client().domain.unsealSession(), ['sessionId', 'nodePublicKey', 'expiresAt', 'received', 'threshold']);
      } else {
        const body = (await readJson(envelope, 'unseal envelope')) as unknown as UnsealShareEnvelope;
        show(json, await client().domain.unseal(body), ['state', 'received', 'threshold']);
      }
      return undefined;
    },
  },
  {
    name: 'domain seal', synopsis: '', summary: 'wipe the domain key from the node (officers)',
    run: async ({ json, client }) => {
      show(json, await client().domain.seal(), STATUS_FIELDS);
      return undefined;
    },
  },
  {
    name: 'custodian keygen', synopsis: '--out FILE [--name NAME]', summary: 'make a custodian key pair (private file, 0600) and print the public key',
    options: { out: { type: 'string' }, name: { type: 'string' } }, connects: false,
    run: async ({ args, json }) => {
      const out = args.required('out');
      const { createCustodianKeyPair } = await import('../../barrier/index.ts');
      const pair = createCustodianKeyPair();
      const file: CustodianKeyFile = { name: args.string('name') ?? 'custodian', ...pair };
      try {
        // 'wx': never overwrite a custodian key, which may be the only copy of a share's key.
        await writeFile(out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      } catch (error) {
        throw new CofferError('INVALID_ARGUMENT', `cannot create ${out} (an existing file is never overwritten)`, { cause: error });
      }
      if (json) printJson({ name: file.name, publicKey: file.publicKey, keyFile: out });
      else process.stdout.write(`${file.name}=${file.publicKey}\n`);
      return undefined;
    },
  },
  {
    name: 'custodian unseal', synopsis: '--key-file FILE', summary: "open your share locally, re-encrypt it to the node's unseal session and submit it",
    options: { 'key-file': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const key = await readCustodianKey(args.required('key-file'));
      show(json, await client().domain.unsealAsCustodian({ privateKey: key.privateKey, publicKey: key.publicKey }), ['state', 'received', 'threshold']);
      return undefined;
    },
  },
];
