// coffer dev, coffer serve and coffer node join: run a node in the foreground until SIGINT/SIGTERM. The server is
// loaded only here, so the client commands start quickly.
import type { Command } from '../command.ts';

export const NODE_COMMANDS: readonly Command[] = [
  {
    name: 'dev', synopsis: '', summary: 'run the development node: $COFFER_DATA_DIR (default .coffer/dev), self-unsealing, with dev PKI, principals and a demo key',
    connects: false,
    run: async () => {
      const { runDevNode } = await import('../dev/dev-node.ts');
      await runDevNode(process.env);
      return undefined;
    },
  },
  {
    name: 'serve', synopsis: '--config FILE [--restore-from BACKUP_FILE]', summary: 'run a node from a configuration file (docs/operations.md)',
    details: '--restore-from: rebuild after losing every node (docs/backups.md). The store must be empty; the node adopts the\n'
      + "backup's security domain, starts sealed, and restores the file when the custodians unseal it.",
    options: { config: { type: 'string' }, 'restore-from': { type: 'string' } }, connects: false,
    run: async ({ args }) => {
      const { serveNode } = await import('../serve-node.ts');
      const restoreFrom = args.string('restore-from');
      await serveNode(args.required('config'), process.env, restoreFrom === undefined ? {} : { restoreFrom });
      return undefined;
    },
  },
  {
    name: 'signer', synopsis: '--config FILE', summary: 'run the signing service from a configuration file (docs/signing.md)',
    details: 'The signing service reaches Coffer through the SDK as its own service principal (config coffer.cert/key) and serves\n'
      + 'its API over mutual TLS (config api). `coffer dev` runs one beside the development node.',
    options: { config: { type: 'string' } }, connects: false,
    run: async ({ args }) => {
      const { serveSigner } = await import('../serve-signer.ts');
      await serveSigner(args.required('config'), process.env);
      return undefined;
    },
  },
  {
    name: 'node join', synopsis: '--config FILE (--join-token TOKEN | --aws-evidence-file FILE)',
    summary: 'start a node sealed over the cluster store, join through attestation (no custodians), then serve',
    details: 'An unsealed node of the cluster must run an admitter (config cluster.join). --join-token: a join token from an officer\n'
      + '(`coffer node join-token`); without either option, COFFER_JOIN_TOKEN is used, which keeps it out of the process list.\n'
      + '--aws-evidence-file: JSON {"document", "signature", "role"?} from the instance metadata\n'
      + '(/latest/dynamic/instance-identity/document and /signature). Once joined it serves as `coffer serve` does.',
    options: { config: { type: 'string' }, 'join-token': { type: 'string' }, 'aws-evidence-file': { type: 'string' } }, connects: false,
    run: async ({ args }) => {
      const { joinAndServe } = await import('../join-node.ts');
      const awsEvidenceFile = args.string('aws-evidence-file');
      const fromEnv = process.env['COFFER_JOIN_TOKEN'];
      const token = args.string('join-token') ?? (awsEvidenceFile === undefined && fromEnv !== '' ? fromEnv : undefined);
      await joinAndServe(args.required('config'), { ...(token === undefined ? {} : { token }), ...(awsEvidenceFile === undefined ? {} : { awsEvidenceFile }) }, process.env);
      return undefined;
    },
  },
];
