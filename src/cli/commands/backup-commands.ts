// coffer backup create | list | verify | restore: officers' backups in the node's backup directory.
import { CofferError } from '../../core/errors.ts';
import type { Command } from '../command.ts';
import { printJson, printTable } from '../output.ts';

export const BACKUP_COMMANDS: readonly Command[] = [
  {
    name: 'backup create', synopsis: '', summary: "write a backup of every record to the node's backup directory (officers)",
    run: async ({ json, client }) => {
      const backup = await client().backups.create();
      if (json) printJson(backup);
      else process.stdout.write(`${backup.name} ${backup.manifest.records.total} records, manifest ${backup.manifestDigest}\n`);
      return undefined;
    },
  },
  {
    name: 'backup list', synopsis: '', summary: 'the backups in the backup directory, oldest first (officers)',
    run: async ({ json, client }) => {
      const listed = await client().backups.list();
      if (json) {
        printJson(listed);
        return undefined;
      }
      printTable(listed.backups, [['NAME', (b) => b.name], ['CREATED', (b) => b.manifest.createdAt], ['NODE', (b) => b.manifest.nodeId], ['RECORDS', (b) => String(b.manifest.records.total)]]);
      for (const name of listed.damaged) process.stderr.write(`damaged: ${name}\n`);
      return undefined;
    },
  },
  {
    name: 'backup verify', synopsis: 'NAME', summary: 'check a backup (signature, digest, domain, every chunk) without restoring it (officers)',
    details: 'NAME: the file name or the manifest digest. Exit status 1 with BACKUP_INTEGRITY_FAILED or BACKUP_FOREIGN_DOMAIN.',
    run: async ({ args, json, client }) => {
      const backup = await client().backups.verify(args.positional(0, 'the backup name'));
      if (json) printJson(backup);
      else process.stdout.write(`${backup.name}: OK (${backup.manifest.records.total} records, domain ${backup.manifest.domainId})\n`);
      return undefined;
    },
  },
  {
    name: 'backup restore', synopsis: 'NAME --mode empty|merge', summary: 'restore a backup into an empty store, or merge it without overwriting newer records (officers)',
    details: 'Where the quorum policy covers backup.restore this is refused (QUORUM_REQUIRED): request it with\n'
      + "`coffer quorum request backup.restore` and parameters {\"backup\": NAME, \"mode\": …} instead.",
    options: { mode: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const name = args.positional(0, 'the backup name');
      const mode = args.required('mode');
      if (mode !== 'empty' && mode !== 'merge') throw new CofferError('INVALID_ARGUMENT', '--mode must be empty or merge');
      const result = await client().backups.restore(name, mode);
      if (json) printJson(result);
      else process.stdout.write(`${result.name}: ${result.restored} records restored, ${result.kept} kept (${result.mode})\n`);
      return undefined;
    },
  },
];
