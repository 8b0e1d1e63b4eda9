// The Authenticode format: a PE file (.exe, .dll, .sys) signed in place, as signtool and osslsigncode
// sign it — SpcIndirectDataContent over the image hash, in a PKCS #7 SignedData carrying the key's
// certificate chain, embedded as the file's attribute certificate table.
import type { SigningAlgorithm } from '../../../core/algorithms/names.ts';
import { CofferError } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import { buildSignedData, signedDataContentInfo, timeStampTokenAttribute } from '../../../pki/cms/index.ts';
import { type PkiSignatureAlgorithm, pkiSignatureAlgorithm } from '../../../pki/pki-signer.ts';
import { chooseSigningAlgorithm } from '../algorithm-choice.ts';
import type { FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput } from '../format-signer.ts';
import { embedSignature, readImageToSign } from './signed-image.ts';
import { ID_SPC_INDIRECT_DATA, ID_SPC_RFC3161_TIME_STAMP, authenticodeSignedAttributes, indirectDataContent, type OpusInfo } from './spc-structures.ts';
import { certificatesOf, checkedCertificates, type SignerCertificates } from '../signer-certificates.ts';
import { MAX_PE_BYTES } from './pe-image.ts';

/** How errors name this format. */
const FORMAT = 'Authenticode';

export const AUTHENTICODE_MEDIA_TYPE = 'application/vnd.microsoft.portable-executable';

export interface AuthenticodeOptions extends FormatOptions {
  /**
   * Asks a TSA for a DER TimeStampToken (a ContentInfo) over `signature`, the SignerInfo's signature
   * value (its messageImprint a SHA-2 hash of those bytes), as CmsOptions.timeStamp. The token is
   * added as Authenticode's RFC 3161 counter-signature, unsigned attribute 1.3.6.1.4.1.311.3.3.1.
   */
  readonly timeStamp?: (signature: Buffer) => Promise<Buffer>;
}

/**
 * What Windows and osslsigncode verify: RSA PKCS#1 v1.5 and ECDSA on P-256/P-384. Each algorithm
 * names the spec whose PKI default it is, so its OIDs come from the PKI's one table.
 */
const ALGORITHM_SPECS: Readonly<Partial<Record<SigningAlgorithm, KeySpec>>> = {
  RSASSA_PKCS1_V1_5_SHA_256: 'RSA_2048',
  RSASSA_PKCS1_V1_5_SHA_384: 'RSA_3072',
  RSASSA_PKCS1_V1_5_SHA_512: 'RSA_4096',
  ECDSA_SHA_256: 'EC_P256',
  ECDSA_SHA_384: 'EC_P384',
};
/** The specs of those defaults: a secp256k1 key also signs ECDSA_SHA_256, but not in a form Windows verifies. */
const SIGNING_SPECS: ReadonlySet<KeySpec> = new Set(Object.values(ALGORITHM_SPECS));
/** id-kp-codeSigning (RFC 5280 §4.2.1.12) and anyExtendedKeyUsage: Windows requires one of them when the leaf lists EKUs. */
const CODE_SIGNING_USAGES: ReadonlySet<string> = new Set(['1.3.6.1.5.5.7.3.3', '2.5.29.37.0']);
/** SpcSpOpusInfo strings from options.metadata: bounded, and the URL plain ASCII http(s). */
const MAX_OPUS_CHARS = 256;

/**
 * The signature algorithm for the key: the spec's PKI default (SHA-256 for RSA-2048 and P-256,
 * SHA-384 for RSA-3072 and P-384, SHA-512 for RSA-4096), or the RSA PKCS#1 v1.5 hash that
 * options.algorithm names. INCOMPATIBLE_ALGORITHM for RSASSA-PSS, Ed25519, ML-DSA, P-521, secp256k1.
 */
function algorithmFor(signer: KeySigner, options?: FormatOptions): PkiSignatureAlgorithm {
  const chosen = chooseSigningAlgorithm(signer, options);
  const spec = ALGORITHM_SPECS[chosen];
  if (spec === undefined || !SIGNING_SPECS.has(signer.spec)) {
    throw new CofferError('INCOMPATIBLE_ALGORITHM', `Authenticode signs with RSA PKCS#1 v1.5 or ECDSA P-256/P-384, not ${chosen} on ${signer.spec}`);
  }
  return pkiSignatureAlgorithm(spec);
}

/**
 * The leaf and chain as a verifier checks them (signer-certificates.ts), and for code signing if the
 * leaf lists extended key usages (CERTIFICATE_INVALID).
 */
function codeSigningCertificates(signer: KeySigner, now: Date): SignerCertificates {
  const checked = checkedCertificates(signer, now, FORMAT);
  // Undefined at run time when the certificate has no extendedKeyUsage extension (@types/node omits that).
  const usages = checked.leaf.x509.keyUsage as readonly string[] | undefined;
  if (usages !== undefined && !usages.some((usage) => CODE_SIGNING_USAGES.has(usage))) {
    throw new CofferError('CERTIFICATE_INVALID', 'the certificate is not for code signing: its extended key usage lacks id-kp-codeSigning');
  }
  return checked;
}

/** SpcSpOpusInfo from metadata.programName and metadata.moreInfoUrl; INVALID_ARGUMENT when too long or not an http(s) URL. */
function opusInfoOf(options?: FormatOptions): OpusInfo {
  const { programName, moreInfoUrl } = options?.metadata ?? {};
  if (programName !== undefined && (programName.length === 0 || programName.length > MAX_OPUS_CHARS)) {
    throw new CofferError('INVALID_ARGUMENT', `metadata.programName must be 1 to ${MAX_OPUS_CHARS} characters`);
  }
  // IA5String: ASCII only, and a URL a user might be shown, so http or https.
  if (moreInfoUrl !== undefined && (moreInfoUrl.length > MAX_OPUS_CHARS || !/^https?:\/\/[\x21-\x7e]+$/.test(moreInfoUrl))) {
    throw new CofferError('INVALID_ARGUMENT', `metadata.moreInfoUrl must be an ASCII http(s) URL of at most ${MAX_OPUS_CHARS} characters`);
  }
  return { ...(programName === undefined ? {} : { programName }), ...(moreInfoUrl === undefined ? {} : { moreInfoUrl }) };
}

export const authenticodeSigner = {
  format: 'authenticode',
  output: 'embedded',
  maxFileBytes: MAX_PE_BYTES,

  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan {
    const { digest } = algorithmFor(signer, options);
    // Fails before an upload is hashed, not after: a key without a certificate cannot sign Authenticode.
    certificatesOf(signer, FORMAT);
    opusInfoOf(options);
    return { hash: digest };
  },

  sign(): Promise<SignedOutput> {
    return Promise.reject(new CofferError('INVALID_ARGUMENT', 'the authenticode format signs inside the PE file: use signFile'));
  },

  async signFile(path: string, signer: KeySigner, options?: AuthenticodeOptions): Promise<SignedOutput> {
    const algorithm = algorithmFor(signer, options);
    const now = options?.signingTime ?? new Date();
    const { leaf, certificates } = codeSigningCertificates(signer, now);
    const opus = opusInfoOf(options);
    const image = await readImageToSign(path, algorithm.digest);
    const content = indirectDataContent(algorithm.digest, image.digest);
    const { timeStamp } = options ?? {};
    const { signedData } = await buildSignedData({
      contentType: ID_SPC_INDIRECT_DATA,
      content: { pkcs7Content: content.der, contentDigest: content.contentDigest },
      algorithm,
      signingTime: now,
      signer: leaf,
      certificates,
      signedAttributes: authenticodeSignedAttributes(opus),
      // The signed attributes are a few hundred bytes: the module hashes and signs them as a message.
      sign: (attributesDer) => signer.sign(algorithm.algorithm, { message: attributesDer }),
      ...(timeStamp === undefined
        ? {}
        : { unsignedAttributes: async (signature: Buffer) => [timeStampTokenAttribute(await timeStamp(signature), signature, ID_SPC_RFC3161_TIME_STAMP)] }),
    });
    const bytes = embedSignature(image, signedDataContentInfo(signedData));
    // The signed file keeps its own name (.exe, .dll, .sys): no suffix is added.
    return { bytes, mediaType: AUTHENTICODE_MEDIA_TYPE, suffix: '', algorithm: algorithm.algorithm };
  },
} satisfies FormatSigner;
