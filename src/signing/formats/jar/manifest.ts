// The JAR manifest format (JAR File Specification, "Manifest Specification"): sections of
// `Name: value` headers separated by blank lines, no line over 72 bytes, longer values continued on
// lines that begin with one space. Reads a manifest (keeping the main section's bytes as they are)
// and writes headers and sections the way the JDK does (CRLF line ends).
import { CofferError } from '../../../core/errors.ts';

/** A manifest is read whole into memory: 16 MiB is far above any real one. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** The specification's line limit, in bytes, without the line end. */
const LINE_BYTES = 72;
/** The JDK reads lines into a 512-byte buffer: a longer physical line makes JarFile fail. */
const MAX_READ_LINE_BYTES = 511;
const CRLF = Buffer.from('\r\n');
const SPACE = Buffer.from(' ');
/** header-name: alphanum *headerchar, at most 70 bytes (JAR File Specification, "Manifest Specification"). */
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,69}$/u;

export interface ManifestAttribute {
  readonly name: string;
  readonly value: string;
}

/** An individual (per-entry) section: the entry name, then its other attributes in order. */
export interface ManifestSection {
  readonly name: string;
  readonly attributes: readonly ManifestAttribute[];
}

export interface ParsedManifest {
  /** The main section's bytes, kept exactly, ending with its blank line. */
  readonly main: Buffer;
  readonly sections: readonly ManifestSection[];
}

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `the JAR manifest is malformed: ${message}`);
}

interface Line {
  readonly bytes: Buffer;
  /** Offset just past the line end. */
  readonly next: number;
}

/** Physical lines; each must end with CRLF, LF or CR (the JDK fails on an unterminated last line). */
function linesOf(bytes: Buffer): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = start;
    while (end < bytes.length && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end += 1;
    if (end === bytes.length) throw invalid('the last line has no line end');
    if (end - start > MAX_READ_LINE_BYTES) throw invalid(`a line is longer than ${MAX_READ_LINE_BYTES} bytes`);
    const next = bytes[end] === 0x0d && bytes[end + 1] === 0x0a ? end + 2 : end + 1;
    lines.push({ bytes: bytes.subarray(start, end), next });
    start = next;
  }
  return lines;
}

function parseHeader(logical: Buffer): ManifestAttribute {
  const colon = logical.indexOf(0x3a);
  if (colon <= 0 || logical[colon + 1] !== 0x20) throw invalid('a header is not "Name: value"');
  const name = logical.subarray(0, colon).toString('latin1');
  if (!HEADER_NAME.test(name)) throw invalid('a header name is not alphanumeric, "-" and "_" (at most 70)');
  let value: string;
  try {
    value = new TextDecoder('utf-8', { fatal: true }).decode(logical.subarray(colon + 2));
  } catch {
    throw invalid('a header value is not UTF-8');
  }
  return { name, value };
}

interface RawSection {
  readonly headers: ManifestAttribute[];
  /** Offset just past the section (and its blank line, if it has one). */
  readonly end: number;
  readonly blankEnded: boolean;
}

/** Groups lines into sections of headers, continuation lines joined (their leading space dropped). */
function sectionsOf(lines: readonly Line[]): RawSection[] {
  const sections: RawSection[] = [];
  let pending: Buffer[] = [];
  let headers: ManifestAttribute[] = [];
  const flush = (): void => {
    if (pending.length > 0) headers.push(parseHeader(Buffer.concat(pending)));
    pending = [];
  };
  for (const line of lines) {
    if (line.bytes.length === 0) {
      flush();
      // Blank lines end a section; a run of them (or a leading one) ends an empty one, kept only for the main section.
      if (headers.length > 0 || sections.length === 0) sections.push({ headers, end: line.next, blankEnded: true });
      headers = [];
    } else if (line.bytes[0] === 0x20) {
      if (pending.length === 0) throw invalid('a continuation line follows no header');
      pending.push(line.bytes.subarray(1));
    } else {
      flush();
      pending.push(line.bytes);
    }
  }
  flush();
  if (headers.length > 0 || sections.length === 0) sections.push({ headers, end: lines.at(-1)?.next ?? 0, blankEnded: false });
  return sections;
}

/**
 * Reads a manifest: the main section kept byte for byte (with a blank line added if it had none),
 * each individual section as its entry name and attributes. INVALID_ARGUMENT for bad syntax, a
 * section without a leading Name header, or two sections for one name.
 */
export function parseManifest(bytes: Buffer): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(`larger than ${MAX_MANIFEST_BYTES} bytes`);
  const [main, ...individual] = sectionsOf(linesOf(bytes));
  if (main === undefined) throw invalid('no main section');
  const mainBytes = bytes.subarray(0, main.end);
  // A main section that ends the file lacks its blank line: the signature file digests it with one.
  const sections: ManifestSection[] = [];
  const names = new Set<string>();
  for (const { headers } of individual) {
    const [first, ...attributes] = headers;
    if (first?.name.toLowerCase() !== 'name' || first.value === '') throw invalid('an individual section does not begin with a Name header');
    if (names.has(first.value)) throw invalid(`two sections for ${JSON.stringify(first.value.slice(0, 64))}`);
    names.add(first.value);
    sections.push({ name: first.value, attributes });
  }
  return { main: mainBytes.length === 0 || main.blankEnded ? Buffer.from(mainBytes) : Buffer.concat([mainBytes, CRLF]), sections };
}

/**
 * `name: value` as manifest lines: at most 72 bytes each, continued on lines that begin with one
 * space (so 71 bytes of value), never splitting a UTF-8 sequence; CRLF line ends.
 */
export function headerBytes(name: string, value: string): Buffer {
  if (!HEADER_NAME.test(name)) throw new CofferError('INVALID_ARGUMENT', `${JSON.stringify(name.slice(0, 72))} is not a manifest header name`);
  if (/[\r\n\u0000]/u.test(value)) throw new CofferError('INVALID_ARGUMENT', `the ${name} value holds a line end or NUL`);
  const line = Buffer.from(`${name}: ${value}`, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  let room = LINE_BYTES;
  while (line.length - at > room) {
    let cut = at + room;
    // Back up to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
    while (((line[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
    parts.push(line.subarray(at, cut), CRLF, SPACE);
    at = cut;
    room = LINE_BYTES - 1;
  }
  parts.push(line.subarray(at), CRLF);
  return Buffer.concat(parts);
}

/** A section: its headers in order, then the blank line that ends it. */
export function sectionBytes(headers: readonly ManifestAttribute[]): Buffer {
  return Buffer.concat([...headers.map((header) => headerBytes(header.name, header.value)), CRLF]);
}
