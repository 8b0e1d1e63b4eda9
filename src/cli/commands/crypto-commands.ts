// coffer encrypt | decrypt | sign | verify | mac | verify-mac | random: bytes from a file or stdin,
// bytes to a file or stdout (binary as is; --json gives base64 in JSON).
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseKeyRef } from '../../client/index.ts';
import type { Args } from '../args.ts';
import { parseInteger } from '../args.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import { UsageError, type Command } from '../command.ts';
import { printJson } from '../output.ts';
import { DIRECT_DETAILS, directSign } from './direct-sign.ts';

const IO = { in: { type: 'string' }, out: { type: 'string' } } as const satisfies ParseArgsOptionsConfig;
const CONTEXT = { context: { type: 'string', multiple: true } } as const satisfies ParseArgsOptionsConfig;
const SIGNING = { algorithm: { type: 'string' }, digest: { type: 'boolean' }, format: { type: 'string' } } as const satisfies ParseArgsOptionsConfig;

/** The key positional as the API's keyId string: a uuid or project/name. */
function keyIdOf(args: Args): string {
  const ref = args.positional(0, 'key (project/name or key id)');
  const parsed = parseKeyRef(ref);
  return 'id' in parsed ? parsed.id : `${parsed.project}/${parsed.name}`;
}

function contextOf(args: Args): { context?: Record<string, string> } {
  const context = args.map('context');
  return context === undefined ? {} : { context };
}

function formatOf(args: Args): { format?: 'DER' | 'RAW' } {
  const format = args.string('format');
  if (format === undefined) return {};
  if (format !== 'DER' && format !== 'RAW') throw new UsageError('--format is DER or RAW');
  return { format };
}

/** The input as the message, or (--digest) as a precomputed digest. */
async function signedData(args: Args): Promise<{ message: Buffer } | { digest: Buffer }> {
  const data = await readInput(args.string('in'));
  return args.flag('digest') ? { digest: data } : { message: data };
}

/** Prints valid/invalid; a signature or MAC that does not verify exits 1, as openssl does. */
function verdict(json: boolean, result: { valid: boolean }): number {
  if (json) printJson(result);
  else process.stdout.write(`${result.valid ? 'valid' : 'invalid'}\n`);
  return result.valid ? 0 : 1;
}

export const CRYPTO_COMMANDS: readonly Command[] = [
  {
    name: 'encrypt', synopsis: '<key> [--in FILE|-] [--out FILE] [--context k=v]… [--algorithm A]', summary: 'encrypt bytes (the ciphertext names its key)',
    options: { ...IO, ...CONTEXT, algorithm: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const algorithm = args.string('algorithm');
      const result = await client().crypto.encrypt({ keyId: keyIdOf(args), plaintext: await readInput(args.string('in')), ...contextOf(args), ...(algorithm === undefined ? {} : { algorithm }) });
      if (json) printJson(result);
      else await writeOutput(args.string('out'), result.ciphertext);
      return undefined;
    },
  },
  {
    name: 'decrypt', synopsis: '[--in FILE|-] [--out FILE] [--context k=v]…', summary: 'decrypt a Coffer ciphertext',
    options: { ...IO, ...CONTEXT },
    run: async ({ args, json, client }) => {
      const result = await client().crypto.decrypt({ ciphertext: await readInput(args.string('in')), ...contextOf(args) });
      if (json) printJson(result);
      else await writeOutput(args.string('out'), result.plaintext);
      result.plaintext.fill(0);
      return undefined;
    },
  },
  {
    name: 'sign', synopsis: '<key> --algorithm A [--in FILE|-] [--digest] [--format DER|RAW] [--out FILE]  |  <key> --direct [--as raw|cms|jws|openpgp|authenticode|jar] [--algorithm A] --in FILE|- [--out FILE] [--time-stamp TSA_KEY] [--profile NAME [--project P]]',
    summary: 'sign bytes (or, with --digest, a precomputed digest; with --direct, a file of any size in a signature format)',
    details: DIRECT_DETAILS,
    options: { ...IO, ...SIGNING, direct: { type: 'boolean' }, as: { type: 'string' }, 'time-stamp': { type: 'string' }, profile: { type: 'string' }, project: { type: 'string' }, signer: { type: 'string' } },
    run: async ({ args, json, client }) => {
      if (args.flag('direct')) return directSign(args, json, client(), keyIdOf(args));
      if (['as', 'time-stamp', 'profile', 'project', 'signer'].some((name) => args.string(name) !== undefined)) throw new UsageError('--as, --time-stamp, --profile, --project and --signer go with --direct');
      const result = await client().crypto.sign({ keyId: keyIdOf(args), algorithm: args.required('algorithm'), ...(await signedData(args)), ...formatOf(args) });
      if (json) printJson(result);
      else await writeOutput(args.string('out'), result.signature);
      return undefined;
    },
  },
  {
    name: 'verify', synopsis: '<key> --algorithm A --signature FILE [--in FILE|-] [--digest] [--format DER|RAW]', summary: 'verify a signature (exit 0 valid, 1 invalid)',
    options: { in: { type: 'string' }, ...SIGNING, signature: { type: 'string' }, 'key-version': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const signature = await readInput(args.required('signature'));
      const keyVersion = args.integer('key-version', 1, 999_999_999);
      const result = await client().crypto.verify({
        keyId: keyIdOf(args), algorithm: args.required('algorithm'), signature, ...(await signedData(args)), ...formatOf(args), ...(keyVersion === undefined ? {} : { keyVersion }),
      });
      return verdict(json, result);
    },
  },
  {
    name: 'mac', synopsis: '<key> [--in FILE|-] [--out FILE] [--algorithm A]', summary: 'compute an HMAC',
    options: { ...IO, algorithm: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const algorithm = args.string('algorithm');
      const result = await client().crypto.mac({ keyId: keyIdOf(args), message: await readInput(args.string('in')), ...(algorithm === undefined ? {} : { algorithm }) });
      if (json) printJson(result);
      else await writeOutput(args.string('out'), result.mac);
      return undefined;
    },
  },
  {
    name: 'verify-mac', synopsis: '<key> --mac FILE [--in FILE|-] [--algorithm A]', summary: 'verify an HMAC (exit 0 valid, 1 invalid)',
    options: { in: { type: 'string' }, mac: { type: 'string' }, algorithm: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const algorithm = args.string('algorithm');
      const mac = await readInput(args.required('mac'));
      const result = await client().crypto.verifyMac({ keyId: keyIdOf(args), message: await readInput(args.string('in')), mac, ...(algorithm === undefined ? {} : { algorithm }) });
      return verdict(json, result);
    },
  },
  {
    name: 'random', synopsis: '<bytes 1-1024> [--out FILE]', summary: "random bytes from the node's CSPRNG",
    options: { out: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const random = await client().crypto.random(parseInteger(args.positional(0, 'number of bytes'), 'the number of bytes', 1, 1024));
      if (json) printJson({ random });
      else await writeOutput(args.string('out'), random);
      return undefined;
    },
  },
];
