// The signed manifest and the signature file (.SF) of a JAR (JAR File Specification, "Signed JAR
// File"), with SHA-256 digests as jarsigner writes by default: each entry's data in the manifest,
// then the manifest, its main section and each of its sections in the .SF.
import { createHash } from 'node:crypto';
import { type ManifestAttribute, type ParsedManifest, sectionBytes } from './manifest.ts';

/** The product named in Created-By headers. */
const CREATED_BY = 'Coffer';
const DIGEST_HEADER = 'SHA-256-Digest';
/** Any algorithm's digest attribute (SHA1-Digest, SHA-256-Digest…): they belong to the signatures being replaced. */
const ANY_DIGEST_HEADER = /-Digest$/iu;

export interface EntryDigest {
  readonly name: string;
  /** SHA-256 of the entry's uncompressed data. */
  readonly digest: Buffer;
}

export interface SignedManifest {
  readonly bytes: Buffer;
  /** The main section's bytes, with its blank line. */
  readonly main: Buffer;
  /** Each individual section's bytes (with its blank line), by entry name, in manifest order. */
  readonly sections: readonly { readonly name: string; readonly bytes: Buffer }[];
}

function sha256Base64(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}

/**
 * The manifest to sign: the existing main section as it is (a new one if there is none), existing
 * individual sections in order with their other attributes kept and every digest attribute replaced
 * by SHA-256-Digest for the entries in `digests`, then sections for entries the manifest did not
 * name. Sections left with no attribute (names no longer in the archive) are dropped.
 */
export function signedManifest(existing: ParsedManifest | undefined, digests: readonly EntryDigest[]): SignedManifest {
  const main = existing !== undefined && existing.main.length > 0
    ? existing.main
    : sectionBytes([{ name: 'Manifest-Version', value: '1.0' }, { name: 'Created-By', value: CREATED_BY }]);
  const pending = new Map(digests.map((entry) => [entry.name, entry.digest]));
  const sections: { name: string; bytes: Buffer }[] = [];
  const add = (name: string, attributes: readonly ManifestAttribute[]): void => {
    const digest = pending.get(name);
    pending.delete(name);
    const all = digest === undefined ? attributes : [...attributes, { name: DIGEST_HEADER, value: digest.toString('base64') }];
    if (all.length > 0) sections.push({ name, bytes: sectionBytes([{ name: 'Name', value: name }, ...all]) });
  };
  for (const section of existing?.sections ?? []) add(section.name, section.attributes.filter((attribute) => !ANY_DIGEST_HEADER.test(attribute.name)));
  for (const entry of digests) if (pending.has(entry.name)) add(entry.name, []);
  return { bytes: Buffer.concat([main, ...sections.map((section) => section.bytes)]), main, sections };
}

/**
 * The .SF file: Signature-Version 1.0, the digest of the whole manifest and of its main section,
 * then one section per manifest section holding the digest of that section's bytes (blank line
 * included, as the JDK's ManifestDigester hashes them).
 */
export function signatureFile(manifest: SignedManifest): Buffer {
  const main = sectionBytes([
    { name: 'Signature-Version', value: '1.0' },
    { name: 'Created-By', value: CREATED_BY },
    { name: 'SHA-256-Digest-Manifest', value: sha256Base64(manifest.bytes) },
    { name: 'SHA-256-Digest-Manifest-Main-Attributes', value: sha256Base64(manifest.main) },
  ]);
  const sections = manifest.sections.map((section) => sectionBytes([{ name: 'Name', value: section.name }, { name: DIGEST_HEADER, value: sha256Base64(section.bytes) }]));
  return Buffer.concat([main, ...sections]);
}
