// coffer node list | join-token: the cluster seen from a client and an officer (live nodes, and
// single-use tokens for `coffer node join`).
import type { Command } from '../command.ts';
import { printJson, printTable } from '../output.ts';

export const CLUSTER_COMMANDS: readonly Command[] = [
  {
    name: 'node list', synopsis: '', summary: 'live nodes of the cluster: id, API address, state, last heartbeat',
    run: async ({ json, client }) => {
      const nodes = await client().cluster.nodes();
      if (json) printJson(nodes);
      else printTable(nodes, [['NODE', (n) => (n.self ? `${n.nodeId} *` : n.nodeId)], ['API', (n) => n.apiUrl], ['STATE', (n) => n.state], ['HEARTBEAT', (n) => n.lastHeartbeat]]);
      return undefined;
    },
  },
  {
    name: 'node join-token', synopsis: '[--node-name NAME] [--expires-in SECONDS]',
    summary: 'issue a single-use join token for `coffer node join` (officers); prints the token once',
    details: '--node-name: only the node with this nodeId may use it. --expires-in: 60 to 86400 (default 600).\n'
      + 'stdout holds the token alone (TOKEN=$(coffer node join-token …)); its id and expiry go to stderr. The cluster keeps\n'
      + 'only a hash: a lost token cannot be shown again, issue another. Where the quorum policy covers node.admit this is\n'
      + 'refused (QUORUM_REQUIRED): request node.admit with `coffer quorum request node.admit` instead.',
    options: { 'node-name': { type: 'string' }, 'expires-in': { type: 'string' } },
    run: async ({ args, json, client }) => {
      const nodeName = args.string('node-name');
      const expiresInSeconds = args.integer('expires-in', 60, 86_400);
      const issued = await client().cluster.issueJoinToken({
        ...(nodeName === undefined ? {} : { nodeName }),
        ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
      });
      if (json) {
        printJson(issued);
        return undefined;
      }
      process.stdout.write(`${issued.token}\n`);
      process.stderr.write(`join token ${issued.tokenId}${issued.nodeName === undefined ? '' : ` for node ${issued.nodeName}`}, single use, expires ${issued.expiresAt}\n`);
      return undefined;
    },
  },
];
