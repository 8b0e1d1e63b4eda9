// Strict PEM (RFC 7468) reading and writing: one block of the expected label, canonical base64 body.
import { CofferError } from '../core/errors.ts';

/** Far above any certificate or key this module handles; bounds the work done on hostile input. */
export const MAX_PEM_LENGTH = 256 * 1024;

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `text` looks like PEM at all (so bytes read from a .pem file can be told from DER). */
export function looksLikePem(text: string): boolean {
  return text.includes('-----BEGIN ');
}

/**
 * The DER inside the single `label` block of `text`, else INVALID_ARGUMENT naming `what`.
 * Text around blocks (openssl's "subject=" lines, bag attributes) and blocks of other labels are
 * ignored; two blocks of the label are refused because which one was meant is ambiguous. Node's
 * base64 decoder skips bad characters silently, so the body is checked and re-encoded first.
 */
export function decodeSinglePemBlock(text: unknown, label: string, what: string): Buffer {
  if (typeof text !== 'string' || text.length > MAX_PEM_LENGTH) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be a PEM string of at most ${MAX_PEM_LENGTH} characters`);
  }
  let found: Buffer | undefined;
  for (const match of text.matchAll(BLOCK)) {
    const [, begin, body = '', end] = match;
    if (begin !== label && end !== label) continue;
    if (begin !== end) throw new CofferError('INVALID_ARGUMENT', `${what} has mismatched PEM boundaries`);
    if (found !== undefined) throw new CofferError('INVALID_ARGUMENT', `${what} holds more than one ${label} block`);
    const compact = body.replace(/[\r\n\t ]/g, '');
    const der = Buffer.from(compact, 'base64');
    if (compact.length % 4 !== 0 || !BASE64.test(compact) || der.length === 0 || der.toString('base64') !== compact) {
      throw new CofferError('INVALID_ARGUMENT', `${what} has a malformed PEM body`);
    }
    found = der;
  }
  if (found === undefined) throw new CofferError('INVALID_ARGUMENT', `${what} holds no ${label} PEM block`);
  return found;
}

/**
 * Every `label` block of `text` in order (a certificate followed by its chain), each checked as
 * decodeSinglePemBlock checks one; INVALID_ARGUMENT when there are none or more than `max`.
 */
export function decodePemBlocks(text: unknown, label: string, what: string, max: number): Buffer[] {
  if (typeof text !== 'string' || text.length > MAX_PEM_LENGTH) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be a PEM string of at most ${MAX_PEM_LENGTH} characters`);
  }
  const blocks: Buffer[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [whole, begin, , end] = match;
    if (begin !== label && end !== label) continue;
    if (blocks.length === max) throw new CofferError('INVALID_ARGUMENT', `${what} holds more than ${max} ${label} blocks`);
    blocks.push(decodeSinglePemBlock(whole, label, what));
  }
  if (blocks.length === 0) throw new CofferError('INVALID_ARGUMENT', `${what} holds no ${label} PEM block`);
  return blocks;
}

/** RFC 7468 §2: base64 in lines of 64 characters, ending with a newline. */
export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
