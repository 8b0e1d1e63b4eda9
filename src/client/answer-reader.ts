// Reading an HTTP answer whole, bounded: shared by the node transport and the signing service's.
import type { IncomingMessage } from 'node:http';
import { CofferError } from '../core/errors.ts';
import { protocolError } from './client-errors.ts';

/** The header carrying a request's id, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The largest answer read into memory: bigger ones are refused, not buffered. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** The request id the server put on its answer, if any. */
export function requestIdOf(res: IncomingMessage): string | undefined {
  const value = res.headers[REQUEST_ID_HEADER];
  return typeof value === 'string' ? value : undefined;
}

/** The answer's bytes; CLIENT_PROTOCOL_ERROR past `maxBytes`, CLIENT_UNAVAILABLE when it is cut short. */
export function readAnswerBytes(res: IncomingMessage, maxBytes = MAX_ANSWER_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        reject(protocolError(`the answer is larger than ${maxBytes} bytes`, res.statusCode ?? 0, requestIdOf(res)));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    res.on('error', reject);
    res.on('close', () => {
      // After 'end' this is a no-op; before it, the server or the network cut the answer short.
      if (!res.complete) reject(new CofferError('CLIENT_UNAVAILABLE', 'the connection closed before the answer was complete'));
    });
  });
}
