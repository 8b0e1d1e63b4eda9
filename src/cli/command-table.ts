// Every `coffer` command, in the order `coffer help` lists them.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Command } from './command.ts';
import { BACKUP_COMMANDS } from './commands/backup-commands.ts';
import { CLUSTER_COMMANDS } from './commands/cluster-commands.ts';
import { CRYPTO_COMMANDS } from './commands/crypto-commands.ts';
import { DOMAIN_COMMANDS } from './commands/domain-commands.ts';
import { AUTH_COMMANDS, PRINCIPAL_COMMANDS, PROJECT_COMMANDS } from './commands/identity-commands.ts';
import { KEY_COMMANDS } from './commands/key-commands.ts';
import { KEY_TRANSPORT_COMMANDS } from './commands/key-transport-commands.ts';
import { KEY_USE_COMMANDS } from './commands/key-use-commands.ts';
import { NODE_COMMANDS } from './commands/node-commands.ts';
import { OPENPGP_COMMANDS } from './commands/openpgp-commands.ts';
import { PKI_COMMANDS } from './commands/pki-commands.ts';
import { QUORUM_COMMANDS } from './commands/quorum-commands.ts';
import { SIGNING_COMMANDS } from './commands/signing-commands.ts';
import { TSA_COMMANDS } from './commands/tsa-commands.ts';

export const COMMANDS: readonly Command[] = [
  ...NODE_COMMANDS, ...CLUSTER_COMMANDS, ...DOMAIN_COMMANDS, ...AUTH_COMMANDS, ...PRINCIPAL_COMMANDS, ...PROJECT_COMMANDS, ...KEY_COMMANDS, ...KEY_TRANSPORT_COMMANDS, ...CRYPTO_COMMANDS,
  ...QUORUM_COMMANDS, ...KEY_USE_COMMANDS, ...BACKUP_COMMANDS, ...PKI_COMMANDS, ...TSA_COMMANDS, ...OPENPGP_COMMANDS, ...SIGNING_COMMANDS,
];

/** Options every command takes. */
export const GLOBAL_OPTIONS = { json: { type: 'boolean' } } as const satisfies ParseArgsOptionsConfig;
