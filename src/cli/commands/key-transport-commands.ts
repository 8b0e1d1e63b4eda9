// coffer keys export | import-token | import | import-public: key transport (BYOK, export, public keys).
import { parseKeyRef, type ExportKeyRequest, type ImportTokenRequest, type KeySpec } from '../../client/index.ts';
import { KEY_SPECS, KEY_USAGES, type KeyUsage } from '../../core/key-record.ts';
import type { Args } from '../args.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import { UsageError, type Command } from '../command.ts';
import { printJson, show } from '../output.ts';
import { keyRefOf } from './key-commands.ts';

const EXPORT_ALGORITHMS = ['AES_KWP', 'RSA_AES_KEY_WRAP_SHA_256', 'RSAES_OAEP_SHA_256'] as const;
const TOKEN_ALGORITHMS = ['RSA_AES_KEY_WRAP_SHA_256', 'RSAES_OAEP_SHA_256'] as const;
const KEY_FIELDS = ['id', 'name', 'project', 'owner', 'spec', 'usage', 'state', 'currentVersion', 'exportable', 'createdAt'];

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${what} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** The new key's project and name, spec and usage. */
function newKey(args: Args, defaultUsage?: KeyUsage): { project: string; name: string; spec: KeySpec; usage: KeyUsage } {
  const ref = parseKeyRef(keyRefOf(args));
  if ('id' in ref) throw new UsageError('name the new key as project/name (or use --project)');
  const usage = args.string('usage') ?? defaultUsage ?? args.required('usage');
  return { ...ref, spec: oneOf(args.required('spec'), KEY_SPECS, '--spec'), usage: oneOf(usage, KEY_USAGES, '--usage') };
}

export const KEY_TRANSPORT_COMMANDS: readonly Command[] = [
  {
    name: 'keys export', synopsis: '<key> --algorithm ALG (--wrapping-key KEY | --public-key FILE) [--version N] [--out FILE]',
    summary: 'export an exportable key version, wrapped (raw bytes or PKCS#8 DER under the wrapping key)',
    details: `ALG: ${EXPORT_ALGORITHMS.join(', ')}; --public-key is an RSA SPKI PEM (RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256).\n`
      + 'e.g.   coffer keys export alpha/portable --algorithm RSA_AES_KEY_WRAP_SHA_256 --public-key hsm.pem --out portable.wrapped',
    options: { project: { type: 'string' }, algorithm: { type: 'string' }, 'wrapping-key': { type: 'string' }, 'public-key': { type: 'string' }, version: { type: 'string' }, out: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const wrappingKey = args.string('wrapping-key');
      const publicKeyFile = args.string('public-key');
      if ((wrappingKey === undefined) === (publicKeyFile === undefined)) throw new UsageError('give exactly one of --wrapping-key and --public-key');
      const version = args.integer('version', 1, 999_999_999);
      const request: ExportKeyRequest = {
        algorithm: oneOf(args.required('algorithm'), EXPORT_ALGORITHMS, '--algorithm'),
        ...(wrappingKey === undefined ? {} : { wrappingKeyId: wrappingKey }),
        ...(publicKeyFile === undefined ? {} : { wrappingPublicKey: (await readInput(publicKeyFile)).toString('utf8') }),
        ...(version === undefined ? {} : { version }),
      };
      const exported = await client().keys.export(keyRefOf(args), request);
      if (json) printJson({ ...exported, wrappedKey: Buffer.from(exported.wrappedKey).toString('base64') });
      else await writeOutput(args.string('out'), exported.wrappedKey);
      return undefined;
    },
  },
  {
    name: 'keys import-token', synopsis: '--project P --spec SPEC --algorithm ALG [--bits 3072|4096] [--preserve-id] [--public-key-out FILE]',
    summary: 'get an RSA wrapping public key and a single-use token (24 h) to import a key',
    details: `ALG: ${TOKEN_ALGORITHMS.join(', ')}\n`
      + 'Wrap with openssl, e.g. (RSA-OAEP):  openssl pkeyutl -encrypt -pubin -inkey token.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in key.der -out key.wrapped',
    options: { project: { type: 'string' }, spec: { type: 'string' }, algorithm: { type: 'string' }, bits: { type: 'string' }, 'preserve-id': { type: 'boolean' }, 'public-key-out': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const bits = args.integer('bits', 3072, 4096);
      if (bits !== undefined && bits !== 3072 && bits !== 4096) throw new UsageError('--bits is 3072 or 4096');
      const request: ImportTokenRequest = {
        project: args.required('project'), spec: oneOf(args.required('spec'), KEY_SPECS, '--spec'), wrappingAlgorithm: oneOf(args.required('algorithm'), TOKEN_ALGORITHMS, '--algorithm'),
        ...(bits === undefined ? {} : { wrappingKeyBits: bits }), ...(args.flag('preserve-id') ? { preserveId: true } : {}),
      };
      const token = await client().keys.importToken(request);
      const out = args.string('public-key-out');
      if (out !== undefined) await writeOutput(out, token.wrappingPublicKey);
      show(json, token, ['importToken', 'wrappingAlgorithm', 'spec', 'project', 'expiresAt', 'wrappingPublicKeyFingerprint', ...(out === undefined ? ['wrappingPublicKey'] : [])]);
      return 0;
    },
  },
  {
    name: 'keys import', synopsis: '<project/name> --import-token TOKEN --wrapped-file FILE --spec SPEC --usage USAGE',
    summary: 'import material wrapped to an import token’s public key (the key is non-exportable)',
    options: { project: { type: 'string' }, 'import-token': { type: 'string' }, 'wrapped-file': { type: 'string' }, spec: { type: 'string' }, usage: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const fields = newKey(args);
      const wrappedMaterial = await readInput(args.required('wrapped-file'));
      show(json, await client().keys.importWrapped({ ...fields, importToken: args.required('import-token'), wrappedMaterial }), KEY_FIELDS);
      return 0;
    },
  },
  {
    name: 'keys import-public', synopsis: '<project/name> --public-key FILE --spec SPEC [--usage SIGN_VERIFY|ENCRYPT_DECRYPT]',
    summary: 'import a public key alone (SPKI PEM): it verifies, and RSA keys encrypt; it never signs or decrypts',
    options: { project: { type: 'string' }, 'public-key': { type: 'string' }, spec: { type: 'string' }, usage: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const fields = newKey(args, 'SIGN_VERIFY');
      const publicKey = (await readInput(args.required('public-key'))).toString('utf8');
      show(json, await client().keys.importPublic({ ...fields, publicKey }), KEY_FIELDS);
      return 0;
    },
  },
];
