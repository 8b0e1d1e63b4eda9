// The one interface every signature format implements (src/signing/formats/<format>/), and what a
// format is handed: the artifact's digest (hashed elsewhere: streamed on upload, or by the builder in
// direct mode) and a key signer that reaches the module. A format runs a fixed sequence, as the
// sigstore bundler does: decide what to hash → (the caller hashes) → prepare the to-be-signed bytes →
// the module signs → package the signature in the format's encoding.
import type { SigningAlgorithm } from '../../core/algorithms/names.ts';
import type { KeySpec } from '../../core/key-record.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';

/** What the module is asked to sign: a precomputed digest, or (for small to-be-signed structures) the bytes. */
export type SignInput = { readonly digest: Buffer } | { readonly message: Buffer };

/** A Coffer key as a format sees it: its spec, public key and certificates, and a way to sign. */
export interface KeySigner {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly spec: KeySpec;
  /** SubjectPublicKeyInfo DER. */
  readonly publicKeyDer: Buffer;
  /** The key's certificate then its chain (DER), when one is attached: formats that embed certificates need it. */
  readonly certificates?: readonly Buffer[];
  /** When this key version was made: formats that publish the key itself (an OpenPGP certificate) date it so. */
  readonly createdAt?: Date;
  /** Signs in the module (ECDSA signatures DER-encoded). */
  sign(algorithm: SigningAlgorithm, input: SignInput): Promise<Buffer>;
}

/**
 * How the artifact is to be hashed for this format and key: the hash, and bytes fed to the hasher
 * before the artifact (a JWS signing input starts with its protected header) or after it (an OpenPGP
 * signature hashes its packet trailer after the data), if any.
 */
export interface HashPlan {
  readonly hash: PkiHash;
  readonly prefix?: Buffer;
  readonly suffix?: Buffer;
}

/** The artifact as hashed under a HashPlan. */
export interface ArtifactDigest {
  readonly hash: PkiHash;
  /** Hash of prefix ‖ artifact. */
  readonly digest: Buffer;
  /** Size of the artifact alone, in bytes. */
  readonly size: number;
}

export interface FormatOptions {
  /** Pick one of the key's signature algorithms (e.g. RSASSA_PSS_SHA_256 rather than PKCS#1 v1.5). */
  readonly algorithm?: string;
  /** Metadata a format may record (a JWS protected header, say); string values only. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The signature's time where the format records one (default: now). Formats that hash it with the
   * data (OpenPGP) need the same value in hashPlan and sign: callers pass it to both.
   */
  readonly signingTime?: Date;
}

export interface SignedOutput {
  /** The detached signature (or signed envelope) bytes. */
  readonly bytes: Buffer;
  readonly mediaType: string;
  /** The usual file suffix for the output, e.g. ".sig", ".p7s", ".jws". */
  readonly suffix: string;
  /** Coffer's name of the signature algorithm used. */
  readonly algorithm: SigningAlgorithm;
}

export interface FormatSigner {
  readonly format: string;
  /**
   * 'detached' (default): the output is a signature that travels beside the artifact, made from its
   * digest. 'embedded': the output is the signed artifact itself (a signed PE or JAR), made by
   * signFile from the file; such formats take no digest submissions.
   */
  readonly output?: 'detached' | 'embedded';
  /** The largest file the format signs (embedded formats hold the signed copy in memory); none when absent. */
  readonly maxFileBytes?: number;
  /** How to hash the artifact for this key (INCOMPATIBLE_ALGORITHM / KEY_USAGE_NOT_ALLOWED when the format cannot use it). */
  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan;
  /** Signs the hashed artifact; the digest must have been made under hashPlan(signer, options). Embedded formats refuse (use signFile). */
  sign(artifact: ArtifactDigest, signer: KeySigner, options?: FormatOptions): Promise<SignedOutput>;
  /** Embedded formats: reads the file (streamed where it can), has the module sign what the format hashes, and returns the signed file. */
  signFile?(path: string, signer: KeySigner, options?: FormatOptions): Promise<SignedOutput>;
}
