// Cleartext signatures (RFC 4880 §7) for release manifests: the text stays readable, dash-escaped,
// followed by a canonical-text signature (type 0x01) that `gpg --verify` checks.
import { CofferError } from '../../../core/errors.ts';
import type { FormatOptions, KeySigner, SignedOutput } from '../format-signer.ts';
import { armor } from './armor.ts';
import { OPENPGP_HASH, digestOf, keyCreationTime, openpgpKey, openpgpScheme } from './openpgp-key.ts';
import { signatureSeconds } from './openpgp-signer.ts';
import { SIGNATURE_TYPE, signatureTemplate, signaturePacket } from './signature-packet.ts';

/** Manifests are small and the whole text is held in memory: larger inputs take the detached format. */
export const MAX_CLEARTEXT_BYTES = 16 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * The text's lines, split at LF (a CR before the LF stays in the line, dropped by
 * withoutTrailingBlanks for hashing and kept in the output). A final line ending ends the last line
 * rather than starting an empty one: the line ending before the signature is not signed (§7.1).
 */
function linesOf(text: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let end = text.indexOf(LF); end !== -1; end = text.indexOf(LF, start)) {
    lines.push(text.subarray(start, end));
    start = end + 1;
  }
  if (start < text.length) lines.push(text.subarray(start));
  return lines;
}

/**
 * Trailing spaces and tabs are not signed (RFC 4880 §7.1); nor is a stray CR left at a line's end,
 * which a reader splitting at LF sees as part of the line ending (gpg trims it the same way).
 */
function withoutTrailingBlanks(line: Buffer): Buffer {
  let end = line.length;
  while (end > 0 && (line[end - 1] === 0x20 || line[end - 1] === 0x09 || line[end - 1] === CR)) end -= 1;
  return line.subarray(0, end);
}

/** Lines starting with '-' are dash-escaped with "- " (RFC 4880 §7.1), so none can pass for an armour line. */
function dashEscaped(line: Buffer): Buffer {
  return line[0] === 0x2d ? Buffer.concat([Buffer.from('- '), line]) : line;
}

/**
 * Clear-signs `text`: "-----BEGIN PGP SIGNED MESSAGE-----", the Hash header, the dash-escaped text
 * (each line ended by LF; a CRLF text keeps its CRs), then the armoured signature over its
 * canonical form: lines joined with CRLF, trailing blanks removed, no final line ending. The
 * signing time is options.signingTime, else now (one call: nothing else has to agree with it).
 */
export async function openpgpClearSign(text: Buffer, signer: KeySigner, options?: FormatOptions): Promise<SignedOutput> {
  if (!Buffer.isBuffer(text)) throw new CofferError('INVALID_ARGUMENT', 'the text to clear-sign must be bytes');
  if (text.length > MAX_CLEARTEXT_BYTES) throw new CofferError('INPUT_TOO_LARGE', `clear-signed text is limited to ${MAX_CLEARTEXT_BYTES} bytes; use the detached openpgp format`);
  const scheme = openpgpScheme(signer, options);
  const key = openpgpKey(signer, keyCreationTime(signer));
  const template = signatureTemplate(SIGNATURE_TYPE.canonicalText, key, scheme, signatureSeconds(key, options?.signingTime ?? new Date()));
  const lines = linesOf(text);
  const canonical: Buffer[] = [];
  lines.forEach((line, index) => {
    if (index > 0) canonical.push(Buffer.from('\r\n'));
    canonical.push(withoutTrailingBlanks(line));
  });
  const digest = digestOf(scheme.hash, [...canonical, template.trailer]);
  const signature = await signaturePacket(template, scheme, signer, digest);
  const body = lines.flatMap((line) => [dashEscaped(line), Buffer.from('\n')]);
  const bytes = Buffer.concat([
    Buffer.from(`-----BEGIN PGP SIGNED MESSAGE-----\nHash: ${OPENPGP_HASH[scheme.hash].name}\n\n`),
    ...body,
    Buffer.from(armor('PGP SIGNATURE', signature)),
  ]);
  return { bytes, mediaType: 'text/plain; charset=utf-8', suffix: '.asc', algorithm: scheme.algorithm };
}
