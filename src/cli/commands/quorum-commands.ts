// coffer quorum …: an officer's approval key pair (made here, the private half never leaves this
// machine), the quorum policy, and requests that officers approve and their requester applies once
// (the node then runs the operation). A password is bound into a request by digest, never sent in it.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { bindQuorumPassword, type QuorumOperation, type QuorumParameters, type QuorumSecret, type QuorumToken } from '../../client/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Args } from '../args.ts';
import { readSecretLine } from '../byte-io.ts';
import { UsageError, type Command } from '../command.ts';
import { printJson, printTable, show } from '../output.ts';

const TOKEN_FIELDS = ['tokenId', 'operation', 'status', 'requester', 'parameters', 'approvals', 'policyVersion', 'createdAt', 'expiresAt', 'usedAt', 'usedBy', 'digest'];

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `cannot read the ${what} ${path}`, { cause: error });
  }
}

function jsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not JSON${error instanceof Error ? `: ${error.message}` : ''}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

const PARAMETER_OPTIONS = { parameters: { type: 'string' }, param: { type: 'string', multiple: true } } as const;
const PASSWORD_OPTIONS = { 'with-password': { type: 'boolean' }, 'password-file': { type: 'string' } } as const;
const PASSWORD_HELP = 'With --with-password the password is read from --password-file, or from standard input, and never sent in the token';

/** --parameters JSON (default {}), then each --param FIELD=VALUE on top as a string. */
function parametersOf(args: Args): Record<string, unknown> {
  const text = args.string('parameters');
  return { ...(text === undefined ? {} : jsonObject(text, '--parameters')), ...args.map('param') };
}

/** The password, when --with-password (or --password-file) asks for one. */
async function passwordOf(args: Args): Promise<string | undefined> {
  const file = args.string('password-file');
  return args.flag('with-password') || file !== undefined ? readSecretLine(file) : undefined;
}

/** A password is bound into the request as salt and digest, for the principal the parameters name. */
async function requestParameters(args: Args): Promise<QuorumParameters> {
  const parameters = parametersOf(args);
  const password = await passwordOf(args);
  if (password === undefined) return parameters;
  if (typeof parameters['name'] !== 'string') throw new UsageError('--with-password needs the principal: --param name=NAME');
  return { ...parameters, ...(await bindQuorumPassword(parameters['name'], password)) };
}

async function privateKeyOf(path: string): Promise<KeyObject> {
  const pem = await readText(path, 'approval private key');
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new CofferError('INVALID_KEY_MATERIAL', `${path} is not a PEM private key`, { cause: error });
  }
}

/** Approvals by name: what a reader checks; the times are in --json. */
function showToken(json: boolean, token: QuorumToken): void {
  if (json) printJson(token);
  else show(false, { ...token, parameters: JSON.stringify(token.parameters), approvals: token.approvals.map((a) => a.approver) }, TOKEN_FIELDS);
}

export const QUORUM_COMMANDS: readonly Command[] = [
  {
    name: 'quorum keygen', synopsis: '--out FILE', summary: 'make an Ed25519 approval key pair: the private key to FILE (0600), the public key printed',
    details: 'Register the printed public key with `coffer quorum register-key`. The private key signs approvals on this machine only.',
    options: { out: { type: 'string' } }, connects: false,
    run: async ({ args }) => {
      const out = args.required('out');
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      try {
        // wx: never overwrite an existing key; 0600: the private key is for its officer alone.
        await writeFile(out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        throw new CofferError('INVALID_ARGUMENT', `cannot create ${out} (it must not exist yet)`, { cause: error });
      }
      process.stdout.write(publicKey.export({ format: 'pem', type: 'spki' }).toString());
      return undefined;
    },
  },
  {
    name: 'quorum register-key', synopsis: '--public FILE', summary: 'register (or replace) your approval public key (SPKI PEM, Ed25519 or ECDSA P-256)',
    options: { public: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const pem = await readText(args.required('public'), 'approval public key');
      show(json, await client().quorum.registerApprovalKey(pem), ['officer', 'algorithm', 'fingerprint', 'registeredAt']);
      return undefined;
    },
  },
  {
    name: 'quorum policy', synopsis: 'show | init --file RULES.json', summary: 'show the quorum policy, or set the first one',
    details: 'RULES.json maps operation classes to {"threshold": M, "approvers": [officer, …]} and must include "quorum.policy-change".',
    options: { file: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const action = args.positional(0, 'show or init');
      if (action !== 'show' && action !== 'init') throw new UsageError(`quorum policy takes show or init, not ${JSON.stringify(action)}`);
      const policy = action === 'show'
        ? await client().quorum.policy()
        : await client().quorum.initializePolicy(jsonObject(await readText(args.required('file'), 'rules file'), 'the rules file'));
      if (json) printJson(policy);
      else {
        process.stdout.write(`version: ${policy.version}\n`);
        printTable(Object.entries(policy.rules), [['OPERATION', ([operation]) => operation], ['THRESHOLD', ([, rule]) => rule.threshold], ['APPROVERS', ([, rule]) => rule.approvers]]);
      }
      return undefined;
    },
  },
  {
    name: 'quorum request', synopsis: '<CLASS> [--param FIELD=VALUE]… [--parameters JSON] [--with-password [--password-file FILE]]',
    summary: 'request an operation under the quorum policy; approvers sign the token it prints',
    details: 'CLASS is e.g. principal.delete (--param name=bob) or key.delete (--param keyId=ID, by the key\'s owner); --parameters gives '
      + `typed fields (e.g. {"waitingDays": 7}), --param adds string fields. ${PASSWORD_HELP} (principal.password-reset, principal.create).`
      + ' --operation CLASS is accepted too.',
    options: { operation: { type: 'string' }, ...PARAMETER_OPTIONS, ...PASSWORD_OPTIONS },
    run: async ({ args, json, client }) => {
      const operation = (args.string('operation') ?? args.positional(0, 'operation class')) as QuorumOperation;
      showToken(json, await client().quorum.request(operation, await requestParameters(args)));
      return undefined;
    },
  },
  {
    name: 'quorum list', synopsis: '', summary: 'pending requests (officers)',
    run: async ({ json, client }) => {
      const requests = await client().quorum.list();
      if (json) printJson(requests);
      else printTable(requests, [['TOKEN', (r) => r.tokenId], ['OPERATION', (r) => r.operation], ['REQUESTER', (r) => r.requester], ['APPROVALS', (r) => r.approvals.map((a) => a.approver)], ['EXPIRES', (r) => r.expiresAt]]);
      return undefined;
    },
  },
  {
    name: 'quorum show', synopsis: '<token-id>', summary: 'one request with everything its digest covers (officers, auditors)',
    run: async ({ args, json, client }) => {
      showToken(json, await client().quorum.show(args.positional(0, 'token id')));
      return undefined;
    },
  },
  {
    name: 'quorum approve', synopsis: '<token-id> --private-key FILE', summary: 'approve a request: its digest is recomputed and signed here with your approval key',
    options: { 'private-key': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const tokenId = args.positional(0, 'token id');
      showToken(json, await client().quorum.signAndApprove(tokenId, await privateKeyOf(args.required('private-key'))));
      return undefined;
    },
  },
  {
    name: 'quorum apply', synopsis: '<token-id> [--param FIELD=VALUE]… [--parameters JSON] [--with-password [--password-file FILE]]',
    summary: 'spend your approved request once, with the parameters it was approved for: the operation runs and its result is printed',
    details: `Give the same parameters as the request (without the password). ${PASSWORD_HELP}; it must be the one bound at request.`
      + ' A failed operation leaves the token spent: request again.',
    options: { ...PARAMETER_OPTIONS, ...PASSWORD_OPTIONS },
    run: async ({ args, json, client }) => {
      const password = await passwordOf(args);
      const secret: QuorumSecret | undefined = password === undefined ? undefined : { password };
      const applied = await client().quorum.apply(args.positional(0, 'token id'), parametersOf(args), secret === undefined ? {} : { secret });
      if (json) printJson(applied);
      else show(false, { ...applied, parameters: JSON.stringify(applied.parameters), result: JSON.stringify(applied.result) }, ['tokenId', 'operation', 'parameters', 'requester', 'approvers', 'digest', 'result']);
      return undefined;
    },
  },
];
