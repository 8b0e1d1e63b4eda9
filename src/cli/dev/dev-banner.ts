// What `coffer dev` prints once it serves: where things are, how to call it (curl and the CLI), and
// the `coffer: ready` line that scripts and tests wait for.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DevPki } from '../../pki/index.ts';
import { DEV_CUSTODIAN_FILE } from './dev-domain.ts';
import { DEV_KEY, DEV_OFFICER, DEV_PASSWORD_FILE, DEV_PROJECT, DEV_USER } from './dev-identity.ts';

export const READY_LINE = 'coffer: ready';

export interface BannerInput {
  readonly dataDir: string;
  readonly pki: DevPki;
  readonly apiPort: number;
  readonly healthUrl: string;
  readonly domainId: string;
  readonly domainCreated: boolean;
  readonly changes: readonly string[];
  /** The signing service started beside the node. */
  readonly signerUrl: string;
}

/** Paths under the working directory print relative (as the user would type them), others absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  const text = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** How to run this CLI from here: the pinned Node when the checkout's node_modules is at hand. */
function cliCommand(): string {
  const main = fileURLToPath(new URL('../main.ts', import.meta.url));
  const pinned = join(process.cwd(), 'node_modules', '.bin', 'node');
  return `${existsSync(pinned) ? shown(pinned) : shown(process.execPath)} ${shown(main)}`;
}

export function devBanner(input: BannerInput): string {
  const { pki } = input;
  const api = `https://localhost:${input.apiPort}`;
  const ca = shown(pki.caPath);
  const user = { cert: shown(pki.user.certPath), key: shown(pki.user.keyPath) };
  const curl = `curl --cacert ${ca} --cert ${user.cert} --key ${user.key} -d '{"input":"AAAA", "keyName":"${DEV_KEY}", "algorithm": "AES/GCM/NoPadding"}' ${api}/REST/v1/symmetric/encrypt`;
  const cli = cliCommand();
  const made = input.changes.length === 0 ? [] : [`  set up: ${input.changes.join(', ')}`];
  return [
    `coffer: development node in ${shown(input.dataDir)}, domain ${input.domainId} (${input.domainCreated ? 'new' : 'reused'})`,
    ...made,
    `  INSECURE: ${shown(join(input.dataDir, DEV_CUSTODIAN_FILE))} unseals this domain; development only`,
    '',
    `  API        ${api}   (mutual TLS; VSSM API under /REST/v1, native API under /v1)`,
    `  health     ${input.healthUrl}/REST/v1/healthcheck`,
    `  signer     ${input.signerUrl}   (signing service, mutual TLS; project dev, profile raw: docs/signing.md)`,
    `  CA         ${ca}`,
    `  officer    ${shown(pki.officer.certPath)} ${shown(pki.officer.keyPath)}   (principal ${DEV_OFFICER})`,
    `  user       ${user.cert} ${user.key}   (principal ${DEV_USER}, project ${DEV_PROJECT})`,
    `  password   ${shown(join(input.dataDir, DEV_PASSWORD_FILE))}   (${DEV_USER}'s: \`coffer login\`, and VSSM admin calls' adminPassword)`,
    '',
    `  try it (key "${DEV_KEY}" is AES_256 in project ${DEV_PROJECT}):`,
    `    ${curl}`,
    `    export COFFER_URL=${api} COFFER_CA=${ca} COFFER_CERT=${user.cert} COFFER_KEY=${user.key}`,
    `    echo hello | ${cli} encrypt ${DEV_PROJECT}/${DEV_KEY} | ${cli} decrypt`,
    `    export COFFER_SIGNER_URL=${input.signerUrl}; ${cli} signing submit ${DEV_PROJECT} raw README.md --wait`,
    '',
    `  Ctrl-C stops the node (it seals and closes its journal).`,
    READY_LINE,
  ].join('\n');
}
