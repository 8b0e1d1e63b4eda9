// `coffer serve --config FILE`: one node from its configuration, in the foreground until a signal.
// `coffer node join` serves the same way once joined, announcing itself with the same lines.
import { loadConfig, startNode, type RunningNode } from '../server/index.ts';
import { listenError, untilSignal } from './run-until-signal.ts';

/**
 * The lines scripts and tests wait for: `… serving the API at URL, health at URL`, what the node
 * still needs, then `coffer: ready`.
 */
export function announceServing(nodeId: string, running: RunningNode): void {
  console.log(`coffer: node ${nodeId} (${running.node.state}) serving the API at ${running.apiUrl}, health at ${running.healthUrl}`);
  if (running.node.state === 'UNINITIALIZED') console.log('  initialise it with `coffer domain init`, then custodians unseal it with `coffer custodian unseal`');
  else if (running.node.state === 'SEALED') console.log('  custodians unseal it with `coffer custodian unseal --key-file FILE`');
  const restore = running.pendingRestore();
  if (restore !== undefined) console.log(`  it will restore ${restore.file} (manifest ${restore.manifestDigest}, ${String(restore.manifest.records.total)} records) after the unseal`);
  console.log('coffer: ready');
}

/** Serves until SIGINT/SIGTERM, then seals and closes the node. */
export async function serveUntilSignal(running: RunningNode): Promise<void> {
  const signal = await untilSignal();
  console.log(`coffer: ${signal}: sealing and closing`);
  await running.close();
  console.log('coffer: stopped');
}

export async function serveNode(configPath: string, env: Readonly<Record<string, string | undefined>>, options: { readonly restoreFrom?: string } = {}): Promise<void> {
  const config = loadConfig(configPath, env);
  const running = await startNode(config, options.restoreFrom === undefined ? {} : { restoreFrom: options.restoreFrom }).catch((error: unknown) => {
    throw listenError(error);
  });
  announceServing(config.nodeId, running);
  await serveUntilSignal(running);
}
