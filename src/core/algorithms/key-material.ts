// Key material for new and imported key versions: raw random bytes for AES and HMAC, PKCS#8 DER
// (and its SPKI DER public half) otherwise. Imports are checked against the spec and normalised.
import {
  createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, sign, verify, type KeyObject,
} from 'node:crypto';
import { CofferError } from '../errors.ts';
import type { KeySpec } from '../key-record.ts';
import { checkSecretLength, parsePrivateKey } from './key-parsing.ts';
import { keyShape, type KeyShape } from './spec-table.ts';

export interface KeyMaterial {
  /** Secret: raw bytes for symmetric specs, canonical PKCS#8 DER otherwise. */
  readonly material: Buffer;
  /** SPKI DER of the public half, for asymmetric specs. */
  readonly publicKey?: Buffer;
}

type AsymmetricShape = Exclude<KeyShape, { kind: 'AES' | 'HMAC' }>;
interface KeyPair { readonly publicKey: KeyObject; readonly privateKey: KeyObject }

/** F4 = 65537, the exponent every mainstream implementation uses. */
const RSA_EXPONENT = 0x10001;

function exportPair(pair: KeyPair): KeyMaterial {
  return {
    material: pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'der' }),
  };
}

function secretMaterial(shape: KeyShape): KeyMaterial | undefined {
  if (shape.kind === 'AES') return { material: randomBytes(shape.bytes) };
  if (shape.kind === 'HMAC') return { material: randomBytes(shape.generateBytes) };
  return undefined;
}

function generatePairSync(shape: AsymmetricShape): KeyPair {
  switch (shape.kind) {
    case 'RSA': return generateKeyPairSync('rsa', { modulusLength: shape.modulusBits, publicExponent: RSA_EXPONENT });
    case 'EC': return generateKeyPairSync('ec', { namedCurve: shape.curve });
    case 'ED25519': return generateKeyPairSync('ed25519');
    case 'ML_DSA': return generateKeyPairSync(shape.parameterSet);
  }
}

function generatePair(shape: AsymmetricShape): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (error === null) resolve({ publicKey, privateKey });
      else reject(error);
    };
    switch (shape.kind) {
      case 'RSA': generateKeyPair('rsa', { modulusLength: shape.modulusBits, publicExponent: RSA_EXPONENT }, done); return;
      case 'EC': generateKeyPair('ec', { namedCurve: shape.curve }, done); return;
      case 'ED25519': generateKeyPair('ed25519', undefined, done); return;
      case 'ML_DSA': generateKeyPair(shape.parameterSet, undefined, done); return;
    }
  });
}

/** New material for `spec` from the platform CSPRNG. RSA-4096 takes seconds: prefer the async form in a server. */
export function generateKeyMaterial(spec: KeySpec): KeyMaterial {
  const shape = keyShape(spec);
  return secretMaterial(shape) ?? exportPair(generatePairSync(shape as AsymmetricShape));
}

/** As generateKeyMaterial, with the key pair generated on libuv's thread pool. */
export async function generateKeyMaterialAsync(spec: KeySpec): Promise<KeyMaterial> {
  const shape = keyShape(spec);
  return secretMaterial(shape) ?? exportPair(await generatePair(shape as AsymmetricShape));
}

/**
 * Pairwise consistency test (FIPS 140-3 IG 10.3.A): a signature by the private half must verify
 * under the public half derived from it, so a corrupted import is refused rather than stored.
 */
function checkPairwise(spec: KeySpec, privateKey: KeyObject, publicKey: KeyObject): void {
  const probe = Buffer.from('coffer pairwise consistency test');
  const hash = privateKey.asymmetricKeyType === 'rsa' || privateKey.asymmetricKeyType === 'ec' ? 'sha256' : null;
  let consistent: boolean;
  try {
    consistent = verify(hash, probe, publicKey, sign(hash, probe, privateKey));
  } catch (error) {
    throw new CofferError('INVALID_KEY_MATERIAL', `${spec} material failed the pairwise consistency test`, { cause: error });
  }
  if (!consistent) throw new CofferError('INVALID_KEY_MATERIAL', `${spec} material failed the pairwise consistency test`);
}

/** Checks imported material against the spec and returns it in canonical form. */
export function importKeyMaterial(spec: KeySpec, material: Uint8Array): KeyMaterial {
  const shape = keyShape(spec);
  if (shape.kind === 'AES' || shape.kind === 'HMAC') {
    checkSecretLength(spec, material, false);
    return { material: Buffer.from(material) };
  }
  const privateKey = parsePrivateKey(spec, material);
  const publicKey = createPublicKey(privateKey);
  checkPairwise(spec, privateKey, publicKey);
  return exportPair({ privateKey, publicKey });
}
