// Tests only: a Transport that records each request and answers from a queue, so an API module's
// paths, bodies and flags are checked without a node.
import type { RequestOptions, Transport } from './transport.ts';

export interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly options: RequestOptions | undefined;
}

export interface RecordingTransport extends Transport {
  readonly sent: SentRequest[];
}

/** Answers each request with the next of `answers` (an Error is thrown instead of returned). */
export function recordingTransport(answers: unknown[]): RecordingTransport {
  const sent: SentRequest[] = [];
  return {
    sent,
    send(method: string, path: string, options?: RequestOptions): Promise<unknown> {
      sent.push({ method, path, options });
      const answer = answers.shift();
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    exchange(): Promise<never> {
      return Promise.reject(new Error('exchange is not recorded'));
    },
    useToken(): void {
      // Tokens are the transport's business; nothing to record.
    },
  };
}
