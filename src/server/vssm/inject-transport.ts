// injectkey through the engine's one import path (material wrapped under a WRAP_UNWRAP key): the
// caller's own RSA transport key wraps VSSM's plaintext material in-process, and the engine unwraps
// and stores it. The wrapped bytes never leave this request.
import { preparePublicKey, wrap } from '../../core/algorithms/index.ts';
import type { Caller, KeyEngine, KeyMetadata } from '../../core/engine/index.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { CofferKeyKind } from './vssm-key-types.ts';

/** 128-bit security, like the AES-256 and P-256 keys it usually carries (SP 800-57 Pt 1 Table 2). */
const TRANSPORT_SPEC = 'RSA_3072';
/** PKCS#11 CKM_RSA_AES_KEY_WRAP: fits PKCS#8 private keys of any size. */
const TRANSPORT_ALGORITHM = 'RSA_AES_KEY_WRAP_SHA_256';

/** One per principal and project, so no principal ever wraps under a key another one controls. */
export function transportKeyName(principal: string): string {
  return `vssm-transport.${principal}`;
}

async function describeOrCreate(engine: KeyEngine, caller: Caller, project: string): Promise<KeyMetadata> {
  const ref = { project, name: transportKeyName(caller.principal) };
  try {
    return await engine.keys.describe(caller, ref);
  } catch (error) {
    if (!isCofferError(error, 'KEY_NOT_FOUND')) throw error;
  }
  try {
    return await engine.keys.create(caller, {
      project, name: ref.name, spec: TRANSPORT_SPEC, usage: 'WRAP_UNWRAP',
      description: 'Wraps key material sent to the VSSM injectkey endpoint (created on first use)',
    });
  } catch (error) {
    // Two first injections at once: the other request created it.
    if (!isCofferError(error, 'KEY_ALREADY_EXISTS')) throw error;
    return engine.keys.describe(caller, ref);
  }
}

/** The caller's transport key; refused if the name was taken by a key the caller does not own. */
async function transportKey(engine: KeyEngine, caller: Caller, project: string): Promise<KeyMetadata> {
  const key = await describeOrCreate(engine, caller, project);
  if (key.owner !== caller.principal || key.spec !== TRANSPORT_SPEC || key.usage !== 'WRAP_UNWRAP') {
    throw new CofferError('ACCESS_DENIED', `the key ${key.name} is not a transport key owned by the caller`);
  }
  return key;
}

/** Imports `material` (raw bytes, or PKCS#8 DER) as a new key named `name`, owned by the caller. */
export async function injectMaterial(engine: KeyEngine, caller: Caller, project: string, name: string, kind: CofferKeyKind, material: Uint8Array): Promise<KeyMetadata> {
  const transport = await transportKey(engine, caller, project);
  const publicKey = await engine.crypto.getPublicKey(caller, transport.id);
  const wrapped = wrap(preparePublicKey(transport.spec, publicKey.der), TRANSPORT_ALGORITHM, material);
  return engine.keys.import(caller, {
    project, name, spec: kind.spec, usage: kind.usage, description: 'Injected through the VSSM API',
    wrappingKey: transport.id, wrappingAlgorithm: TRANSPORT_ALGORITHM, wrappedMaterial: wrapped,
  });
}
