// Tests only: certificates and time-stamps for the CMS-based formats (cms, authenticode, jar) without
// a node — a root and a leaf issued through Coffer's own CA path for a local key, and a local RFC 3161
// TSA built on Coffer's TSA code.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { MessageImprint, TimeStampReq, TimeStampReqVersion, TimeStampResp } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import type { KeySpec } from '../../core/key-record.ts';
import { checkCaProfile } from '../../pki/ca/ca-profile.ts';
import { planLeaf, signLeafCertificate, signRootCertificate } from '../../pki/ca/certificate-authority.ts';
import { encodePem } from '../../pki/pem-blocks.ts';
import type { PkiSigner } from '../../pki/pki-signer.ts';
import { timeStamp } from '../../pki/tsa/index.ts';
import { buildCsr, parseCsr } from '../../pki/x509/csr.ts';
import { parseDistinguishedName } from '../../pki/x509/distinguished-names.ts';
import { keyIdentifierOf } from '../../pki/x509/extensions.ts';
import { localSigner } from '../../pki/x509/local-signer-test-kit.ts';
import { localKeySigner, pkiSignerOf, type LocalKeySigner } from './local-key-signer-test-kit.ts';

export const SHA256_OID = '2.16.840.1.101.3.4.2.1';
export const TSA_POLICY = '1.3.6.1.4.1.99999.7.1';

export type CertificatePurpose = 'codeSigning' | 'timeStamping';

export interface Chain {
  /** Leaf first, then the root. */
  readonly ders: readonly [Buffer, Buffer];
  readonly rootPem: string;
}

export interface ChainOptions {
  readonly now?: Date;
  /** The leaf's validity (the root's is 30 days longer). Default 30. */
  readonly validityDays?: number;
  /** Words in the subjects' common names, e.g. 'JAR'. */
  readonly label?: string;
}

/**
 * A root CA and an end-entity certificate for `subjectKey` issued through Coffer's own CA path (CSR
 * signed by the key, planned against the profile), for `purpose`, valid from `now`.
 */
export async function issueChain(subjectKey: PkiSigner, purpose: CertificatePurpose, options: ChainOptions = {}): Promise<Chain> {
  const now = options.now ?? new Date();
  const validityDays = options.validityDays ?? 30;
  const label = options.label === undefined ? '' : `${options.label} `;
  const profile = checkCaProfile({ extendedKeyUsage: [purpose] });
  const rootKey = localSigner('EC_P256');
  const rootName = parseDistinguishedName(`CN=Coffer ${label}${purpose} test root, O=Coffer`).name;
  const root = await signRootCertificate(rootKey, { subject: rootName, publicKeyDer: rootKey.publicKeyDer, validityDays: validityDays + 30, profile, now });
  const csr = parseCsr((await buildCsr(subjectKey, { subject: `CN=Coffer ${label}${purpose} test, O=Coffer`, keyUsage: ['digitalSignature'], extendedKeyUsage: [purpose] })).der);
  const issuer = { signer: rootKey, name: rootName, keyIdentifier: keyIdentifierOf(rootKey.publicKeyDer), notAfter: root.notAfter, profile };
  const leaf = await signLeafCertificate(issuer, csr, planLeaf(csr, { validityDays }, profile, 'test root', []), now);
  return { ders: [leaf.der, root.der], rootPem: encodePem('CERTIFICATE', root.der) };
}

/** A local key with a certificate (code signing by default) and its root attached, as the SDK signer attaches them. */
export async function certifiedKey(spec: KeySpec, purpose: CertificatePurpose = 'codeSigning', options: ChainOptions = {}): Promise<{ key: LocalKeySigner; chain: Chain }> {
  const bare = localKeySigner(spec);
  const chain = await issueChain(pkiSignerOf(bare), purpose, options);
  return { key: { ...bare, certificates: chain.ders }, chain };
}

export interface LocalTsa {
  /** A CmsOptions.timeStamp: a token over SHA-256 of the signature value. */
  readonly stamp: (signature: Buffer) => Promise<Buffer>;
  /** Every signature value it was asked to stamp. */
  readonly stamped: Buffer[];
  readonly chain: Chain;
}

/** A real Coffer TSA (RSA key, timeStamping certificate) answering over SHA-256 of the signature. */
export async function localTsa(options: ChainOptions = {}): Promise<LocalTsa> {
  const tsaKey = localSigner('RSA_2048');
  const chain = await issueChain(tsaKey, 'timeStamping', options);
  const stamped: Buffer[] = [];
  const stamp = async (signature: Buffer): Promise<Buffer> => {
    stamped.push(signature);
    const imprint = new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256_OID }), hashedMessage: new OctetString(createHash('sha256').update(signature).digest()) });
    const query = new TimeStampReq({ version: TimeStampReqVersion.v1, messageImprint: imprint, nonce: new Uint8Array(randomBytes(8)).buffer, certReq: true });
    const outcome = await timeStamp(tsaKey, { certificateDer: chain.ders[0], chainDer: [chain.ders[1]], policy: TSA_POLICY }, Buffer.from(AsnConvert.serialize(query)), new Date());
    assert.equal(outcome.granted, true);
    const token = AsnConvert.parse(outcome.reply, TimeStampResp).timeStampToken;
    assert.ok(token !== undefined);
    return Buffer.from(AsnConvert.serialize(token));
  };
  return { stamp, stamped, chain };
}
