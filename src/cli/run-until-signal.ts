// Serving in the foreground: wait for SIGINT or SIGTERM, then let the caller close cleanly; a second
// signal while closing exits at once.
import { CofferError } from '../core/errors.ts';

export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      const force = (): never => process.exit(1);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** A listener that cannot bind says which port and how to choose another, instead of a stack trace. */
export function listenError(error: unknown): unknown {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown; port?: unknown }).code : undefined;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return error;
  const port = (error as { port?: unknown }).port;
  const where = typeof port === 'number' ? `port ${port}` : 'the address';
  return new CofferError('INVALID_ARGUMENT', `cannot listen on ${where} (${code}): choose others with COFFER_API_PORT / COFFER_HEALTH_PORT / COFFER_SIGNER_PORT or the config file`, { cause: error });
}
