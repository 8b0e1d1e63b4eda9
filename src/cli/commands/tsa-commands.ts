// coffer tsa: an RFC 3161 time stamp from a Coffer key, for a file (hashed here, streamed), a digest,
// or a query made elsewhere (openssl ts -query); the reply is written as a .tsr file.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { buildTimeStampQuery, isTimeStampHash, TIME_STAMP_HASHES, type TimeStampHash } from '../../client/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Args } from '../args.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import { UsageError, type Command } from '../command.ts';
import { printJson, printFields } from '../output.ts';
import { keyRefOf } from './key-commands.ts';

const NODE_HASHES: Readonly<Record<TimeStampHash, string>> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** The file's digest, read in chunks: a multi-gigabyte release is never held in memory. */
export async function digestOfFile(path: string, hash: TimeStampHash): Promise<Buffer> {
  const digest = createHash(NODE_HASHES[hash]);
  try {
    for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer);
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `cannot read ${path}`, { cause: error });
  }
  return digest.digest();
}

/** The DER TimeStampReq the options describe: built from --data or --digest, or read from --query. */
export async function timeStampQueryOf(args: Args): Promise<Buffer> {
  const data = args.string('data');
  const digest = args.string('digest');
  const query = args.string('query');
  if ([data, digest, query].filter((value) => value !== undefined).length !== 1) throw new UsageError('give exactly one of --data FILE, --digest HEX and --query FILE');
  const hashName = args.string('hash') ?? 'SHA-256';
  if (!isTimeStampHash(hashName)) throw new UsageError(`--hash must be one of ${TIME_STAMP_HASHES.join(', ')}`);
  if (query !== undefined) {
    // A query made elsewhere carries its own hash, nonce, certReq and policy.
    if (args.string('hash') !== undefined || args.flag('no-nonce') || args.flag('no-cert') || args.string('policy') !== undefined) {
      throw new UsageError('--hash, --no-nonce, --no-cert and --policy are for queries built here, not with --query');
    }
    return readInput(query);
  }
  let bytes: Buffer;
  if (digest !== undefined) {
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(digest)) throw new UsageError('--digest is the digest in hex');
    bytes = Buffer.from(digest, 'hex');
  } else bytes = await digestOfFile(data ?? '', hashName);
  const policy = args.string('policy');
  return buildTimeStampQuery({ digest: bytes }, { hash: hashName, nonce: !args.flag('no-nonce'), certReq: !args.flag('no-cert'), ...(policy === undefined ? {} : { policy }) });
}

export const TSA_COMMANDS: readonly Command[] = [
  {
    name: 'tsa', synopsis: '<key> (--data FILE | --digest HEX | --query FILE) [--hash SHA-256|SHA-384|SHA-512] [--no-nonce] [--no-cert] [--policy OID] --out FILE.tsr',
    summary: 'an RFC 3161 time stamp from a key with a time-stamping certificate (exit 1 when the TSA rejects the query)',
    details: 'The key is positional (project/name or id), since --key is the connection\'s client key.\n'
      + '--data is hashed here (streamed; only the digest is sent); --digest is a digest under --hash (default SHA-256); --query sends\n'
      + 'a DER query made elsewhere, e.g. `openssl ts -query -data FILE -sha256 -cert -out q.tsq`. Queries built here carry a random\n'
      + '64-bit nonce (--no-nonce: none) and ask for the TSA certificate (--no-cert: not). A granted reply is checked to answer this\n'
      + 'query (message imprint and nonce) and written to --out; a rejection prints its failure, writes nothing and exits 1.\n'
      + 'Verify with:  openssl ts -verify -data FILE -in FILE.tsr -CAfile root.pem',
    options: {
      project: { type: 'string' }, data: { type: 'string' }, digest: { type: 'string' }, query: { type: 'string' }, hash: { type: 'string' },
      'no-nonce': { type: 'boolean' }, 'no-cert': { type: 'boolean' }, policy: { type: 'string' }, out: { type: 'string' },
    },
    run: async ({ args, json, client }) => {
      const key = keyRefOf(args);
      const out = args.required('out');
      if (out === '-') throw new UsageError('--out names the .tsr file (the reply is binary and standard output carries the status)');
      const query = await timeStampQueryOf(args);
      const { reply, ...result } = await client().tsa.stamp(key, query);
      if (result.granted) await writeOutput(out, reply);
      const view = { ...result, ...(result.granted ? { out } : {}) };
      if (json) printJson(view);
      else printFields({ ...view, status: `${result.status} (${result.granted ? 'granted' : 'rejected'})` }, ['status', 'failure', 'serialNumber', 'out']);
      return result.granted ? 0 : 1;
    },
  },
];
