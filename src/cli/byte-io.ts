// Binary-safe input and output for the crypto commands: files, or stdin/stdout for `-` or nothing.
import { readFile, writeFile } from 'node:fs/promises';
import { CofferError } from '../core/errors.ts';

/** Far above what one API call accepts (256 KiB bodies); larger input is a mistake, refused early. */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export async function readInput(path: string | undefined): Promise<Buffer> {
  if (path !== undefined && path !== '-') {
    try {
      return await readFile(path);
    } catch (error) {
      throw new CofferError('INVALID_ARGUMENT', `cannot read ${path}`, { cause: error });
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > MAX_INPUT_BYTES) throw new CofferError('INPUT_TOO_LARGE', `standard input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** A file's text with one trailing newline removed (password files, written by `echo` or an editor). */
export async function readSecretLine(path: string | undefined): Promise<string> {
  const text = (await readInput(path)).toString('utf8');
  return text.replace(/\r?\n$/, '');
}

export async function writeOutput(path: string | undefined, bytes: Uint8Array | string): Promise<void> {
  if (path !== undefined && path !== '-') {
    try {
      // The process umask (0077, set in main) keeps outputs private to their owner.
      await writeFile(path, bytes);
    } catch (error) {
      throw new CofferError('INVALID_ARGUMENT', `cannot write ${path}`, { cause: error });
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(bytes, (error) => {
      if (error) reject(error);
      else resolve();
    });
  });
}
