// injectkey through the engine's one import path (material wrapped under a WRAP_UNWRAP key): the
// caller's own RSA transport key wraps VSSM's plaintext material in-process, and the engine unwraps
// and stores it. The wrapped bytes never leave this request.
import { importKeyMaterial, preparePublicKey, wrap } from '../../core/algorithms/index.ts';
import type { Caller, KeyEngine, KeyMetadata } from '../../core/engine/index.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { VssmCall } from './vssm-call.ts';
import type { CofferKeyKind } from './vssm-key-types.ts';

/** 128-bit security, like the AES-256 and P-256 keys it usually carries (SP 800-57 Pt 1 Table 2). */
const TRANSPORT_SPEC = 'RSA_3072';
/** PKCS#11 CKM_RSA_AES_KEY_WRAP: fits PKCS#8 private keys of any size. */
const TRANSPORT_ALGORITHM = 'RSA_AES_KEY_WRAP_SHA_256';

interface KeyName {
  readonly project: string;
  readonly name: string;
}

/** One per principal and project, so no principal ever wraps under a key another one controls. */
export function transportKeyName(principal: string): string {
  return `vssm-transport.${principal}`;
}

/** The key of that name, or undefined if there is none. */
async function describeIfAny(engine: KeyEngine, caller: Caller, ref: KeyName): Promise<KeyMetadata | undefined> {
  try {
    return await engine.keys.describe(caller, ref);
  } catch (error) {
    if (isCofferError(error, 'KEY_NOT_FOUND')) return undefined;
    throw error;
  }
}

async function createTransportKey(engine: KeyEngine, caller: Caller, ref: KeyName): Promise<KeyMetadata> {
  try {
    return await engine.keys.create(caller, {
      project: ref.project, name: ref.name, spec: TRANSPORT_SPEC, usage: 'WRAP_UNWRAP',
      description: 'Wraps key material sent to the VSSM injectkey endpoint (created on first use)',
    });
  } catch (error) {
    // Two first injections at once: the other request created it.
    if (!isCofferError(error, 'KEY_ALREADY_EXISTS')) throw error;
    return engine.keys.describe(caller, ref);
  }
}

/**
 * What the engine's import would refuse, checked before a first injection creates the transport
 * key, so that a refused injectkey leaves no key behind (the admin password and the key type were
 * checked before this): the material, parsed as the import parses it, and the target name, which
 * must be free. Only a name taken between this check and the import still leaves the transport
 * key, which later injections then use. Refusals are audited as vssm.admin.injectkey.
 */
async function checkImportable(call: VssmCall, target: KeyName, kind: CofferKeyKind, material: Uint8Array): Promise<void> {
  await call.audit.checked(() => {
    importKeyMaterial(kind.spec, material).material.fill(0);
  });
  if ((await describeIfAny(call.engine, call.caller, target)) !== undefined) {
    await call.audit.checked(() => {
      throw new CofferError('KEY_ALREADY_EXISTS', `a key named ${target.name} already exists in project ${target.project}`);
    });
  }
}

/**
 * Imports `material` (raw bytes, or PKCS#8 DER) as a new key `target`, owned by the caller, under
 * the caller's transport key, created on the first injection once nothing else can refuse it.
 */
export async function injectMaterial(call: VssmCall, target: KeyName, kind: CofferKeyKind, material: Uint8Array): Promise<KeyMetadata> {
  const { engine, caller } = call;
  const ref = { project: target.project, name: transportKeyName(caller.principal) };
  let transport = await describeIfAny(engine, caller, ref);
  if (transport === undefined) {
    await checkImportable(call, target, kind, material);
    transport = await createTransportKey(engine, caller, ref);
  }
  // The name may have been taken by a key the caller does not own, or of another kind.
  if (transport.owner !== caller.principal || transport.spec !== TRANSPORT_SPEC || transport.usage !== 'WRAP_UNWRAP') {
    throw new CofferError('ACCESS_DENIED', `the key ${transport.name} is not a transport key owned by the caller`);
  }
  const publicKey = await engine.crypto.getPublicKey(caller, transport.id);
  const wrapped = wrap(preparePublicKey(transport.spec, publicKey.der), TRANSPORT_ALGORITHM, material);
  return engine.keys.import(caller, {
    project: target.project, name: target.name, spec: kind.spec, usage: kind.usage, description: 'Injected through the VSSM API',
    wrappingKey: transport.id, wrappingAlgorithm: TRANSPORT_ALGORITHM, wrappedMaterial: wrapped,
  });
}
