// `coffer signer --config FILE`: the signing service in the foreground until a signal.
import { loadSignerConfig, startSigner } from '../signing/service/index.ts';
import { listenError, untilSignal } from './run-until-signal.ts';

export async function serveSigner(configPath: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = loadSignerConfig(configPath, env);
  const running = await startSigner(config).catch((error: unknown) => {
    throw listenError(error);
  });
  console.log(`coffer: signer ${config.nodeId} serving at ${running.url}${running.resumed > 0 ? ` (resumed ${String(running.resumed)} unfinished jobs)` : ''}`);
  console.log('coffer: ready');
  const signal = await untilSignal();
  console.log(`coffer: ${signal}: closing the signer (jobs waiting for approval resume at the next start)`);
  await running.close();
  console.log('coffer: stopped');
}
