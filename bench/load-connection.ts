// A minimal HTTP/1.1 client over node:tls for the load generator: keep-alive connections that each
// carry one request at a time (no pipelining), requests serialised in advance as whole buffers, and
// answers framed by Content-Length only (what Fastify sends for JSON). It costs the client a fraction
// of node:https's CPU per request, which matters when client and node share two cores.
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface Answer {
  readonly status: number;
  /** The body, when asked for or when the status is not 200. */
  readonly body?: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** Far above any answer of the benchmarked routes; protects the client from a runaway stream. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Serialises one request; `body` is JSON text. */
export function requestBytes(method: string, host: string, path: string, body: string | undefined): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${host}`, 'accept: application/json'];
  if (body === undefined) return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const payload = Buffer.from(body, 'utf8');
  lines.push('content-type: application/json', `content-length: ${payload.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

interface Waiting {
  readonly keepBody: boolean;
  resolve(answer: Answer): void;
  reject(error: Error): void;
}

class Connection {
  readonly #socket: TLSSocket;
  #waiting: Waiting | undefined;
  #head: Buffer | undefined;
  #status = 0;
  #remaining = -1;
  #chunks: Buffer[] | undefined;
  alive = true;

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => { this.#receive(chunk); });
    socket.on('error', (error: Error) => { this.#end(error); });
    socket.on('close', () => { this.#end(new Error('the connection closed')); });
  }

  static open(options: ConnectionOptions): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(options, () => {
        socket.off('error', reject);
        resolve(new Connection(socket));
      });
      socket.once('error', reject);
    });
  }

  send(request: Buffer, keepBody: boolean): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (!this.alive) {
        reject(new Error('the connection is closed'));
        return;
      }
      this.#waiting = { keepBody, resolve, reject };
      this.#socket.write(request);
    });
  }

  close(): void {
    this.alive = false;
    this.#socket.destroy();
  }

  #end(error: Error): void {
    this.alive = false;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }

  #fail(message: string): void {
    this.#end(new Error(message));
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    if (this.#waiting === undefined) {
      this.#fail('bytes arrived with no request outstanding');
      return;
    }
    if (this.#remaining < 0) {
      const head = this.#head === undefined ? chunk : Buffer.concat([this.#head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) this.#fail('the answer has no end of headers');
        else this.#head = head;
        return;
      }
      this.#head = undefined;
      const text = head.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length:[ \t]*([0-9]+)/i.exec(text)?.[1];
      if (length === undefined) {
        this.#fail('the answer has no Content-Length (chunked answers are not supported)');
        return;
      }
      this.#status = Number(text.slice(9, 12));
      this.#remaining = Number(length);
      this.#chunks = this.#waiting.keepBody || this.#status !== 200 ? [] : undefined;
      chunk = head.subarray(end + HEAD_END.length);
    }
    this.#remaining -= chunk.length;
    this.#chunks?.push(chunk);
    if (this.#remaining > 0) return;
    if (this.#remaining < 0) {
      this.#fail('more bytes than the answer declared');
      return;
    }
    const waiting = this.#waiting;
    const body = this.#chunks === undefined ? undefined : Buffer.concat(this.#chunks).toString('utf8');
    this.#waiting = undefined;
    this.#chunks = undefined;
    this.#remaining = -1;
    waiting.resolve(body === undefined ? { status: this.#status } : { status: this.#status, body });
  }
}

/** Up to `size` connections, opened on demand and reused; a request waits for a free one. */
export class ConnectionPool {
  readonly #options: ConnectionOptions;
  readonly #size: number;
  readonly #idle: Connection[] = [];
  readonly #queue: ((connection: Connection | Error) => void)[] = [];
  #open = 0;

  constructor(options: ConnectionOptions, size: number) {
    this.#options = options;
    this.#size = size;
  }

  async send(request: Buffer, keepBody: boolean): Promise<Answer> {
    const connection = await this.#acquire();
    try {
      return await connection.send(request, keepBody);
    } finally {
      this.#release(connection);
    }
  }

  close(): void {
    for (const connection of this.#idle.splice(0)) connection.close();
  }

  #acquire(): Promise<Connection> {
    for (let idle = this.#idle.pop(); idle !== undefined; idle = this.#idle.pop()) {
      if (idle.alive) return Promise.resolve(idle);
      this.#open--; // the node closed it while idle (keep-alive timeout)
    }
    if (this.#open < this.#size) return this.#connect();
    return new Promise((resolve, reject) => {
      this.#queue.push((connection) => {
        if (connection instanceof Error) reject(connection);
        else resolve(connection);
      });
    });
  }

  #connect(): Promise<Connection> {
    this.#open++;
    return Connection.open(this.#options).catch((error: unknown) => {
      this.#open--;
      throw error instanceof Error ? error : new Error(String(error));
    });
  }

  #release(connection: Connection): void {
    if (!connection.alive) {
      this.#open--;
      const next = this.#queue.shift();
      if (next !== undefined) this.#connect().then(next, (error: unknown) => { next(error instanceof Error ? error : new Error(String(error))); });
      return;
    }
    const next = this.#queue.shift();
    if (next === undefined) this.#idle.push(connection);
    else next(connection);
  }
}
