// coffer dev and coffer serve: run a node in the foreground until SIGINT/SIGTERM. The server is
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
    name: 'serve', synopsis: '--config FILE', summary: 'run a node from a configuration file (docs/operations.md)',
    options: { config: { type: 'string' } }, connects: false,
    run: async ({ args }) => {
      const { serveNode } = await import('../serve-node.ts');
      await serveNode(args.required('config'), process.env);
      return undefined;
    },
  },
];
