// The development PKI: a local CA, a localhost server certificate and two client credentials on disk.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { CofferError } from '../core/errors.ts';
import { buildCaCertificate, buildLeafCertificate, generateP256KeyPair } from './certificate-builder.ts';
import { loadIssuer, type CertificateIssuer } from './certificate-issuer.ts';
import { fingerprintOf, parseCertificate } from './certificate-parsing.ts';
import { reusableCa, reusableLeaf, type LeafProfile } from './dev-pki-reuse.ts';
import { prepareDirectory, syncDirectory, writeFileAtomic } from './pki-files.ts';
import { serverAltNames, type SubjectAltNames } from './subject-names.ts';
import { caValidity, checkedNow, LEAF_VALIDITY_DAYS, leafValidity } from './validity-window.ts';

export interface ClientCredentialPaths {
  readonly certPath: string;
  readonly keyPath: string;
  /** Lowercase hex SHA-256 of the certificate DER: what a principal is bound by. */
  readonly fingerprint: string;
}

export interface DevPki {
  /** Absolute path of the directory. */
  readonly dir: string;
  readonly caPath: string;
  /** The CA's private key, for issueClientCertificate (development only: it is unencrypted). */
  readonly caKeyPath: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  readonly officer: ClientCredentialPaths;
  readonly user: ClientCredentialPaths;
  /** The development signing service's client certificate (principal dev-signer). */
  readonly signer: ClientCredentialPaths;
  /** File names (relative to `dir`) written by this call, in write order; empty when all were reused. */
  readonly created: readonly string[];
}

export interface DevPkiOptions {
  /** Extra DNS names or IP literals for the server certificate, besides localhost, 127.0.0.1 and ::1. */
  readonly hostnames?: readonly string[];
  /** Act as of this time instead of the clock (tests: issue in the past to get an expiring leaf). */
  readonly now?: Date;
}

const CA_CERT_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca.key';
const CA_NAME_PREFIX = 'Coffer development CA';

const OFFICER: LeafProfile = { certFile: 'officer.pem', keyFile: 'officer.key', commonName: 'dev-officer', purpose: 'clientAuth' };
const USER: LeafProfile = { certFile: 'user.pem', keyFile: 'user.key', commonName: 'dev-user', purpose: 'clientAuth' };
/** The signing service's own identity towards Coffer (`coffer dev` runs one beside the node). */
const SIGNER: LeafProfile = { certFile: 'signer.pem', keyFile: 'signer.key', commonName: 'dev-signer', purpose: 'clientAuth' };

function serverProfile(altNames: SubjectAltNames): LeafProfile {
  return { certFile: 'server.pem', keyFile: 'server.key', commonName: 'localhost', purpose: 'serverAuth', altNames };
}

/** Calls on one directory run one after another, so a process never mixes two CAs' files. */
const inFlight = new Map<string, Promise<unknown>>();

/**
 * Creates the development PKI in `dir` on first use and reuses it afterwards. The CA is recreated
 * (and every leaf with it) when missing, unreadable, not matching its key, or within 30 days of
 * expiry; a leaf is reissued alone when missing, unreadable, expiring within 30 days, not issued by
 * the current CA, not matching its key, or not carrying the expected name or purpose.
 */
export async function ensureDevPki(dir: string, options: DevPkiOptions = {}): Promise<DevPki> {
  if (typeof dir !== 'string' || dir.length === 0) throw new CofferError('INVALID_ARGUMENT', 'dir must be a non-empty path');
  const { hostnames, now } = (options as DevPkiOptions | undefined) ?? {};
  const at = checkedNow(now);
  const altNames = serverAltNames(hostnames ?? []);
  const root = resolve(dir);
  const previous = inFlight.get(root) ?? Promise.resolve();
  const run = previous.then(() => ensureIn(root, at, altNames), () => ensureIn(root, at, altNames));
  const settled = run.then(() => undefined, () => undefined);
  inFlight.set(root, settled);
  try {
    return await run;
  } finally {
    if (inFlight.get(root) === settled) inFlight.delete(root);
  }
}

async function ensureIn(root: string, now: Date, altNames: SubjectAltNames): Promise<DevPki> {
  try {
    return await ensureFiles(root, now, altNames);
  } catch (error) {
    if (error instanceof CofferError) throw error;
    throw new CofferError('INTERNAL_ERROR', `the development PKI in ${root} could not be read or written`, { cause: error });
  }
}

async function ensureFiles(root: string, now: Date, altNames: SubjectAltNames): Promise<DevPki> {
  await prepareDirectory(root);
  const created: string[] = [];
  const write = async (name: string, text: string): Promise<void> => {
    await writeFileAtomic(root, name, text);
    created.push(name);
  };

  const reused = await reusableCa(root, CA_CERT_FILE, CA_KEY_FILE, now);
  const caIsNew = reused === undefined;
  const issuer = reused ?? await createCa(now, write);

  /** Reuses or reissues one leaf; returns its fingerprint. A new CA means every leaf is new. */
  const ensureLeaf = async (profile: LeafProfile): Promise<string> => {
    const existing = caIsNew ? undefined : await reusableLeaf(root, profile, issuer, now);
    return fingerprintOf(existing ?? await issueLeaf(issuer, profile, now, write));
  };
  const server = serverProfile(altNames);
  await ensureLeaf(server);
  const officerFingerprint = await ensureLeaf(OFFICER);
  const userFingerprint = await ensureLeaf(USER);
  const signerFingerprint = await ensureLeaf(SIGNER);
  if (created.length > 0) await syncDirectory(root);

  const client = (profile: LeafProfile, fingerprint: string): ClientCredentialPaths => ({
    certPath: join(root, profile.certFile),
    keyPath: join(root, profile.keyFile),
    fingerprint,
  });
  return {
    dir: root,
    caPath: join(root, CA_CERT_FILE),
    caKeyPath: join(root, CA_KEY_FILE),
    serverCertPath: join(root, server.certFile),
    serverKeyPath: join(root, server.keyFile),
    officer: client(OFFICER, officerFingerprint),
    user: client(USER, userFingerprint),
    signer: client(SIGNER, signerFingerprint),
    created,
  };
}

type Write = (name: string, text: string) => Promise<void>;

/** Key first, then certificate: a crash between the two leaves a mismatch, which the next call repairs. */
async function createCa(now: Date, write: Write): Promise<CertificateIssuer> {
  const pair = await generateP256KeyPair();
  // A random suffix tells apart the CAs of different checkouts in a trust store or a browser.
  const commonName = `${CA_NAME_PREFIX} ${randomBytes(6).toString('hex')}`;
  const certPem = await buildCaCertificate(pair.keys, commonName, caValidity(now));
  await write(CA_KEY_FILE, pair.privateKeyPem);
  await write(CA_CERT_FILE, certPem);
  return loadIssuer({ certPem, keyPem: pair.privateKeyPem });
}

/** Issues a fresh key pair and certificate for `profile`; returns the certificate DER. */
async function issueLeaf(issuer: CertificateIssuer, profile: LeafProfile, now: Date, write: Write): Promise<Buffer> {
  const pair = await generateP256KeyPair();
  const certPem = await buildLeafCertificate(issuer, {
    subjectPublicKey: pair.publicKeyDer,
    commonName: profile.commonName,
    purpose: profile.purpose,
    ...(profile.altNames === undefined ? {} : { altNames: profile.altNames }),
    ...leafValidity(issuer.notAfter, now, LEAF_VALIDITY_DAYS),
  });
  await write(profile.keyFile, pair.privateKeyPem);
  await write(profile.certFile, certPem);
  return parseCertificate(certPem).der;
}
