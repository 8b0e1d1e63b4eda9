// The JAR format: signs a Java archive inside the file as jarsigner does — a manifest with each
// entry's SHA-256, a signature file (.SF) digesting the manifest, and a PKCS#7 SignedData block
// (.RSA or .EC) over the .SF made by Coffer — and returns the signed archive.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { CofferError } from '../../../core/errors.ts';
import { nodeHashName } from '../../../pki/cms/signed-attributes.ts';
import { type PkiSignatureAlgorithm, pkiSignatureAlgorithm } from '../../../pki/pki-signer.ts';
import { pkiAlgorithmOnly } from '../algorithm-choice.ts';
import type { FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput } from '../format-signer.ts';
import { MANIFEST_NAME, readJar, writeSignedJar } from './jar-archive.ts';
import { signatureFile, signedManifest } from './signature-files.ts';
import { certificatesOf, checkedCertificates } from '../signer-certificates.ts';
import { detachedSignedData } from '../detached-signed-data.ts';
import { MAX_ARCHIVE_BYTES } from './zip-reader.ts';

/** How errors name this format. */
const FORMAT = 'JAR';

export interface JarOptions extends FormatOptions {
  /**
   * Asks a TSA for a DER TimeStampToken over `signature`, the SignerInfo's signature value (RFC 3161
   * Appendix A), added as the unsigned attribute id-aa-timeStampToken: jarsigner's -tsa does the same.
   */
  readonly timeStamp?: (signature: Buffer) => Promise<Buffer>;
}

/** The signature files' base name unless metadata.jarAlias names another. */
export const DEFAULT_JAR_ALIAS = 'COFFER';
/** jarsigner's rule for the base name: at most 8 characters of A-Z, 0-9, '_' and '-'. */
const ALIAS = /^[A-Z0-9_-]{1,8}$/u;
/** The key specs the JDK verifies, and the block file suffix each implies (JAR File Specification, "Signed JAR File"). */
const BLOCK_SUFFIX: Readonly<Partial<Record<KeySigner['spec'], 'RSA' | 'EC'>>> = {
  RSA_2048: 'RSA', RSA_3072: 'RSA', RSA_4096: 'RSA', EC_P256: 'EC', EC_P384: 'EC', EC_P521: 'EC',
};

/**
 * The PKI table's algorithm for the key (RSA PKCS#1 v1.5 or ECDSA, the hash by key size).
 * INCOMPATIBLE_ALGORITHM for keys the JDK cannot verify in a JAR here, or for another algorithm named
 * in options.algorithm (RSASSA-PSS would need RFC 4056 parameters this format does not write).
 */
function algorithmFor(signer: KeySigner, options?: FormatOptions): { algorithm: PkiSignatureAlgorithm; suffix: 'RSA' | 'EC' } {
  // KEY_USAGE_NOT_ALLOWED for a key that cannot sign comes first, as pkiSignatureAlgorithm raises it.
  pkiSignatureAlgorithm(signer.spec);
  const suffix = BLOCK_SUFFIX[signer.spec];
  if (suffix === undefined) throw new CofferError('INCOMPATIBLE_ALGORITHM', `the JAR format signs with RSA and NIST P-curve keys, not ${signer.spec}`);
  return { algorithm: pkiAlgorithmOnly(signer, options, FORMAT), suffix };
}

/** The signature files' base name: metadata.jarAlias upper-cased, else COFFER; INVALID_ARGUMENT unless [A-Z0-9_-]{1,8}. */
function aliasOf(options?: FormatOptions): string {
  const alias = (options?.metadata?.['jarAlias'] ?? DEFAULT_JAR_ALIAS).toUpperCase();
  if (!ALIAS.test(alias)) throw new CofferError('INVALID_ARGUMENT', 'jarAlias must be 1 to 8 of A-Z, 0-9, "_" and "-"');
  return alias;
}

export const jarSigner = {
  format: 'jar',
  output: 'embedded',
  maxFileBytes: MAX_ARCHIVE_BYTES,

  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan {
    const { algorithm } = algorithmFor(signer, options);
    certificatesOf(signer, FORMAT);
    aliasOf(options);
    return { hash: algorithm.digest };
  },

  sign(): Promise<SignedOutput> {
    return Promise.reject(new CofferError('INVALID_ARGUMENT', 'the JAR format signs inside the file: use signFile'));
  },

  async signFile(path: string, signer: KeySigner, options?: JarOptions): Promise<SignedOutput> {
    const { algorithm, suffix } = algorithmFor(signer, options);
    const alias = aliasOf(options);
    const now = options?.signingTime ?? new Date();
    // Checked before the file is read: a bad certificate fails fast.
    const chain = checkedCertificates(signer, now, FORMAT);
    const { timeStamp } = options ?? {};
    const handle = await open(path, 'r');
    try {
      const read = await readJar(handle);
      const manifest = signedManifest(read.manifest, read.digests);
      const sf = signatureFile(manifest);
      // A JAR signature block is a detached PKCS#7 SignedData over the .SF bytes, with signed attributes as jarsigner writes it.
      const block = await detachedSignedData({
        signer, algorithm, detachedDigest: createHash(nodeHashName(algorithm.digest)).update(sf).digest(), signingTime: now, chain, timeStamp,
      });
      const bytes = await writeSignedJar(handle, read, [
        { name: MANIFEST_NAME, data: manifest.bytes },
        { name: `META-INF/${alias}.SF`, data: sf },
        { name: `META-INF/${alias}.${suffix}`, data: block },
      ], now);
      return { bytes, mediaType: 'application/java-archive', suffix: '', algorithm: algorithm.algorithm };
    } finally {
      await handle.close();
    }
  },
} satisfies FormatSigner;
