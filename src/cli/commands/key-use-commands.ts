// coffer approver | approve | use …: approval for key use. An approver's keys are made here (the
// private halves never leave this machine); requests are made and awaited by `use`, approved or
// rejected by `approve`, which recomputes each request's digest locally before signing anything.
import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { ParseArgsOptionsConfig } from 'node:util';
import { keyUseRequestDigest, parseKeyRef, x25519PublicKeyText, type ApproverKeys, type KeyRef, type KeyUseInput, type KeyUseOutcome, type KeyUseRequestView } from '../../client/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Args } from '../args.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { printJson, printTable, show } from '../output.ts';

const VIEW_FIELDS = [
  'requestId', 'use', 'status', 'keyId', 'project', 'keyVersion', 'sealed', 'inputDigest', 'metadata', 'requester', 'threshold', 'approvers', 'rejectionEnds',
  'approvals', 'rejections', 'createdAt', 'expiresAt', 'completedAt', 'error', 'ephemeralPublicKey', 'digest',
];
/** The longest --wait: a day, the longest a request lives. */
const MAX_WAIT = 86_400;
const REQUEST_OPTIONS = {
  wait: { type: 'string' }, out: { type: 'string' }, metadata: { type: 'string', multiple: true }, expires: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;
const REQUEST_HELP = `  --wait N        wait up to N seconds for the approvals and print the result (else print the request)
  --out FILE      where the result's bytes go (signature, plaintext, wrapped key; default stdout)
  --metadata k=v  shown to the approvers and bound into the digest (repeatable)
  --expires S     the request's lifetime in seconds, 60 to 86400 (default 3600)`;
const PEM_BLOCK = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g;

/** An approver's key file: PKCS#8 PEM blocks, one Ed25519 (or ECDSA P-256) signing key and one X25519 share key. */
async function approverKeysOf(path: string): Promise<ApproverKeys> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `cannot read the approver key file ${path}`, { cause: error });
  }
  let signingKey: KeyObject | undefined;
  let shareKey: KeyObject | undefined;
  for (const [block] of text.matchAll(PEM_BLOCK)) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: block, format: 'pem' });
    } catch (error) {
      throw new CofferError('INVALID_KEY_MATERIAL', `${path} holds a PEM block that is not a private key`, { cause: error });
    }
    if (key.asymmetricKeyType === 'x25519') shareKey ??= key;
    else if (key.asymmetricKeyType === 'ed25519' || (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')) signingKey ??= key;
  }
  if (signingKey === undefined) throw new CofferError('INVALID_KEY_MATERIAL', `${path} holds no Ed25519 or ECDSA P-256 signing key (coffer approver keygen makes one)`);
  return shareKey === undefined ? { signingKey } : { signingKey, shareKey };
}

function fingerprintOf(key: KeyObject): string {
  return hash('sha256', createPublicKey(key).export({ format: 'der', type: 'spki' }), 'hex');
}

/** A key positional (or --wrapping-key) as the SDK's KeyRef: a uuid or project/name. */
function keyRefOf(value: string): KeyRef {
  const parsed = parseKeyRef(value);
  return 'id' in parsed ? parsed.id : parsed;
}

function hexDigest(text: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2}){16,64}$/.test(text)) throw new UsageError('--digest takes the digest in hex (16 to 64 bytes)');
  return Buffer.from(text, 'hex');
}

/** Names and times in the human form; --json keeps everything. */
function showView(json: boolean, view: KeyUseRequestView): void {
  if (json) {
    printJson(view);
    return;
  }
  show(false, {
    ...view,
    metadata: Object.keys(view.metadata).length === 0 ? undefined : JSON.stringify(view.metadata),
    approvals: `${view.approvals.length} of ${view.threshold}: ${view.approvals.map((a) => a.approver).join(',')}`,
    rejections: view.rejections.length === 0 ? undefined : view.rejections.map((r) => (r.reason === undefined ? r.approver : `${r.approver} (${r.reason})`)),
    error: view.error === undefined ? undefined : `${view.error.code}: ${view.error.message}`,
  }, VIEW_FIELDS);
}

/**
 * Prints an outcome: the result's bytes to --out (or stdout), other results as fields. Exit 0 only
 * for a completed use; a failed, rejected or expired one, or one still waiting, exits 1.
 */
async function printOutcome(context: CommandContext, requestId: string, outcome: KeyUseOutcome): Promise<number> {
  const { args, json } = context;
  if (outcome.status !== 'completed') {
    if (json) printJson({ requestId, ...outcome });
    const reason = outcome.error === undefined ? '' : `: ${outcome.error.code}: ${outcome.error.message}`;
    const pending = outcome.status === 'pending' || outcome.status === 'running';
    process.stderr.write(`coffer: request ${requestId} is ${outcome.status}${reason}${pending ? ` (coffer use result ${requestId} --wait N)` : ''}\n`);
    return 1;
  }
  const result = outcome.result;
  if (json || result === undefined) {
    printJson({ requestId, ...outcome });
    return 0;
  }
  const bytes = 'signature' in result ? result.signature : 'plaintext' in result ? result.plaintext : 'wrappedKey' in result ? result.wrappedKey : undefined;
  if (bytes === undefined) show(false, result, ['use', 'keyId', 'currentVersion']);
  else await writeOutput(args.string('out'), bytes);
  if ('plaintext' in result) result.plaintext.fill(0);
  return 0;
}

/** Sends the request, then prints it, or with --wait waits for its result. */
async function requestUse(context: CommandContext, input: KeyUseInput): Promise<number> {
  const { args, json } = context;
  const wait = args.integer('wait', 0, MAX_WAIT);
  const expiresInSeconds = args.integer('expires', 60, 86_400);
  const metadata = args.map('metadata');
  const view = await context.client().keyUse.request(input, {
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }), ...(metadata === undefined ? {} : { metadata }),
  });
  if (wait === undefined) {
    showView(json, view);
    return 0;
  }
  process.stderr.write(`coffer: request ${view.requestId} (digest ${view.digest}) waits for ${view.threshold} of ${view.approvers.join(',')}\n`);
  return printOutcome(context, view.requestId, await context.client().keyUse.waitForResult(view.requestId, wait));
}

function requestedKey(args: Args): KeyRef {
  return keyRefOf(args.positional(0, 'key (project/name or key id)'));
}

export const KEY_USE_COMMANDS: readonly Command[] = [
  {
    name: 'approver keygen', synopsis: '--out FILE', summary: 'make your approver keys: Ed25519 signing and X25519 share keys to FILE (0600), public parts printed',
    details: 'Register them with `coffer approver register --key-file FILE`. The private keys sign approvals and open\nshares of sealed keys on this machine only; FILE is never overwritten and never printed.',
    options: { out: { type: 'string' } }, connects: false,
    run: async ({ args, json }) => {
      const out = args.required('out');
      const signing = generateKeyPairSync('ed25519');
      const share = generateKeyPairSync('x25519');
      const pem = [signing.privateKey, share.privateKey].map((key) => key.export({ format: 'pem', type: 'pkcs8' }).toString()).join('');
      try {
        // wx: never overwrite an existing key; 0600: the private keys are for their approver alone.
        await writeFile(out, pem, { mode: 0o600, flag: 'wx' });
      } catch (error) {
        throw new CofferError('INVALID_ARGUMENT', `cannot create ${out} (it must not exist yet)`, { cause: error });
      }
      const publicParts = {
        signingKey: signing.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        signingFingerprint: fingerprintOf(signing.privateKey),
        shareKey: x25519PublicKeyText(share.publicKey),
      };
      if (json) printJson(publicParts);
      else process.stdout.write(`${publicParts.signingKey}signingFingerprint: ${publicParts.signingFingerprint}\nshareKey: ${publicParts.shareKey}\n`);
      return undefined;
    },
  },
  {
    name: 'approver register', synopsis: '--key-file FILE', summary: 'register (or replace) your approver keys: only their public halves are sent',
    options: { 'key-file': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const keys = await approverKeysOf(args.required('key-file'));
      show(json, await client().keyUse.registerApproverKeys(keys), ['principal', 'signingAlgorithm', 'signingFingerprint', 'shareKey', 'registeredAt']);
      return undefined;
    },
  },
  {
    name: 'approve list', synopsis: '', summary: 'key-use requests waiting for your approval',
    run: async ({ json, client }) => {
      const requests = await client().keyUse.list('approver');
      if (json) printJson(requests);
      else printTable(requests, [['REQUEST', (r) => r.requestId], ['USE', (r) => r.use], ['KEY', (r) => r.keyId], ['REQUESTER', (r) => r.requester], ['APPROVALS', (r) => `${r.approvals.length}/${r.threshold}`], ['EXPIRES', (r) => r.expiresAt]]);
      return undefined;
    },
  },
  {
    name: 'approve show', synopsis: '<request-id>', summary: 'a request with everything its digest covers, and whether the digest recomputed here matches',
    run: async ({ args, json, client }) => {
      const view = await client().keyUse.show(args.positional(0, 'request id'));
      const recomputed = keyUseRequestDigest(view);
      showView(json, view);
      if (!json) process.stdout.write(`recomputed: ${recomputed} (${recomputed === view.digest ? 'matches' : 'DOES NOT MATCH: do not approve'})\n`);
      return recomputed === view.digest ? 0 : 1;
    },
  },
  {
    name: 'approve yes', synopsis: '<request-id> --key-file FILE', summary: 'approve: the digest is recomputed and signed here; a sealed key\'s share is re-sealed to the request',
    options: { 'key-file': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const requestId = args.positional(0, 'request id');
      showView(json, await client().keyUse.approveAsApprover(requestId, await approverKeysOf(args.required('key-file'))));
      return undefined;
    },
  },
  {
    name: 'approve no', synopsis: '<request-id> --key-file FILE [--reason TEXT]', summary: 'reject: signed here over the recomputed digest (by default one rejection ends the request)',
    options: { 'key-file': { type: 'string' }, reason: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const requestId = args.positional(0, 'request id');
      const keys = await approverKeysOf(args.required('key-file'));
      showView(json, await client().keyUse.rejectAsApprover(requestId, keys, args.string('reason')));
      return undefined;
    },
  },
  {
    name: 'use sign', synopsis: '<key> --algorithm A (--message-file FILE | --digest HEX) [--format DER|RAW] [--wait N] [--out FILE] [--metadata k=v]…',
    summary: 'ask the approvers of a key to let it sign once',
    details: `The key is a key id or project/name (positional: --key is the client key of the connection).\n${REQUEST_HELP}\ne.g.   coffer use sign prod/release --algorithm ED25519 --message-file app.tar --wait 600 --out app.sig`,
    options: { ...REQUEST_OPTIONS, algorithm: { type: 'string' }, 'message-file': { type: 'string' }, digest: { type: 'string' }, format: { type: 'string' } },
    run: async (context) => {
      const { args } = context;
      const digest = args.string('digest');
      const messageFile = args.string('message-file');
      if ((digest === undefined) === (messageFile === undefined)) throw new UsageError('give exactly one of --message-file and --digest');
      const format = args.string('format');
      if (format !== undefined && format !== 'DER' && format !== 'RAW') throw new UsageError('--format is DER or RAW');
      return requestUse(context, {
        use: 'sign', key: requestedKey(args), algorithm: args.required('algorithm'),
        ...(digest === undefined ? { message: await readInput(messageFile) } : { digest: hexDigest(digest) }),
        ...(format === undefined ? {} : { format }),
      });
    },
  },
  {
    name: 'use decrypt', synopsis: '--ciphertext-file FILE [--context k=v]… [--wait N] [--out FILE]', summary: 'ask the approvers of a key to let it decrypt one ciphertext',
    details: REQUEST_HELP,
    options: { ...REQUEST_OPTIONS, 'ciphertext-file': { type: 'string' }, context: { type: 'string', multiple: true } },
    run: async (context) => {
      const { args } = context;
      const ciphertext = await readInput(args.required('ciphertext-file'));
      const encryptionContext = args.map('context');
      return requestUse(context, { use: 'decrypt', ciphertext, ...(encryptionContext === undefined ? {} : { context: encryptionContext }) });
    },
  },
  {
    name: 'use export', synopsis: '<key> --wrapping-key KEY --algorithm A [--wait N] [--out FILE]', summary: 'ask the approvers of a key to let it be exported once, wrapped',
    details: REQUEST_HELP,
    options: { ...REQUEST_OPTIONS, 'wrapping-key': { type: 'string' }, algorithm: { type: 'string' } },
    run: async (context) => {
      const { args } = context;
      return requestUse(context, { use: 'export', key: requestedKey(args), wrappingKey: keyRefOf(args.required('wrapping-key')), algorithm: args.required('algorithm') });
    },
  },
  {
    name: 'use rotate', synopsis: '<key> [--wait N]', summary: 'ask the approvers of a sealed key to let it rotate',
    details: REQUEST_HELP,
    options: REQUEST_OPTIONS,
    run: async (context) => requestUse(context, { use: 'rotate', key: requestedKey(context.args) }),
  },
  {
    name: 'use result', synopsis: '<request-id> [--wait N] [--out FILE]', summary: "your request's result (bytes to --out or stdout); --wait long-polls",
    options: { wait: { type: 'string' }, out: { type: 'string' } },
    run: async (context) => {
      const requestId = context.args.positional(0, 'request id');
      const wait = context.args.integer('wait', 0, MAX_WAIT);
      const keyUse = context.client().keyUse;
      return printOutcome(context, requestId, wait === undefined ? await keyUse.result(requestId) : await keyUse.waitForResult(requestId, wait));
    },
  },
  {
    name: 'use list', synopsis: '', summary: 'your own key-use requests',
    run: async ({ json, client }) => {
      const requests = await client().keyUse.list('requester');
      if (json) printJson(requests);
      else printTable(requests, [['REQUEST', (r) => r.requestId], ['USE', (r) => r.use], ['KEY', (r) => r.keyId], ['STATUS', (r) => r.status], ['APPROVALS', (r) => `${r.approvals.length}/${r.threshold}`], ['EXPIRES', (r) => r.expiresAt]]);
      return undefined;
    },
  },
];
