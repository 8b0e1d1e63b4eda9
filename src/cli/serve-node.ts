// `coffer serve --config FILE`: one node from its configuration, in the foreground until a signal.
import { loadConfig, startNode } from '../server/index.ts';
import { listenError, untilSignal } from './run-until-signal.ts';

export async function serveNode(configPath: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = loadConfig(configPath, env);
  const running = await startNode(config).catch((error: unknown) => {
    throw listenError(error);
  });
  console.log(`coffer: node ${config.nodeId} (${running.node.state}) serving the API at ${running.apiUrl}, health at ${running.healthUrl}`);
  if (running.node.state === 'UNINITIALIZED') console.log('  initialise it with `coffer domain init`, then custodians unseal it with `coffer custodian unseal`');
  else if (running.node.state === 'SEALED') console.log('  custodians unseal it with `coffer custodian unseal --key-file FILE`');
  console.log('coffer: ready');
  const signal = await untilSignal();
  console.log(`coffer: ${signal}: sealing and closing`);
  await running.close();
  console.log('coffer: stopped');
}
