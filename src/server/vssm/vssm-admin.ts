// AdminService's key operations: generatekey, injectkey and listkeys, in the caller's default
// project and through the engine (the caller becomes the owner of what it creates).
import type { KeyMetadata } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import { injectMaterial } from './inject-transport.ts';
import { encodeProtoBytes, encodeProtoInt64, type Decoded } from './proto-json.ts';
import { vssmKeyRef, vssmProject, type VssmCall } from './vssm-call.ts';
import { generatedKeyKind, injectedKeyKind, parseKeyType, vssmViewOf, type VssmKeyType } from './vssm-key-types.ts';
import type {
  GENERATE_KEY_REQUEST, INJECT_KEY_REQUEST, LIST_KEYS_REQUEST, ListedAsymmetricKey, ListedSymmetricKey, ListKeysResponse,
} from './vssm-messages.ts';

/** The engine's largest page. */
const PAGE = 1000;
/** listkeys answers at most this many keys (VSSM lists everything; a bound keeps one answer finite). */
export const MAX_LISTED_KEYS = 10_000;

export async function generateKey(call: VssmCall, body: Decoded<typeof GENERATE_KEY_REQUEST>): Promise<Record<string, never>> {
  const [kind, ref] = await call.audit.checked(() => [
    generatedKeyKind(parseKeyType(body.keyType), body.keySpec, body.keySize), vssmKeyRef(call, body.keyName),
  ] as const);
  await call.engine.keys.create(call.caller, { project: ref.project, name: ref.name, spec: kind.spec, usage: kind.usage, description: 'Generated through the VSSM API' });
  return {};
}

export async function injectKey(call: VssmCall, body: Decoded<typeof INJECT_KEY_REQUEST>): Promise<Record<string, never>> {
  try {
    const [kind, ref] = await call.audit.checked(() => [injectedKeyKind(parseKeyType(body.keyType), body.key), vssmKeyRef(call, body.keyName)] as const);
    await injectMaterial(call, ref, kind, body.key);
    return {};
  } finally {
    body.key.fill(0);
  }
}

interface Listing {
  readonly symmetricKey: ListedSymmetricKey[];
  readonly asymmetricKey: ListedAsymmetricKey[];
  readonly macKey: ListedSymmetricKey[];
}

async function addKey(call: VssmCall, listing: Listing, key: KeyMetadata, wanted: VssmKeyType | undefined): Promise<boolean> {
  const view = vssmViewOf(key.spec, key.usage);
  if (view === undefined || key.state === 'DESTROYED' || (wanted !== undefined && view.type !== wanted)) return false;
  const createdAt = encodeProtoInt64(Date.parse(key.createdAt));
  if (view.type === 'ASYMMETRIC') {
    const publicKey = await call.engine.crypto.getPublicKey(call.caller, key.id);
    listing.asymmetricKey.push({ name: key.name, createdAt, keySpec: view.keySpec ?? '', publicKey: encodeProtoBytes(publicKey.der) });
  } else {
    const entry = { name: key.name, createdAt, keyLength: encodeProtoInt64(view.keyLength ?? 0) };
    (view.type === 'SYMMETRIC' ? listing.symmetricKey : listing.macKey).push(entry);
  }
  return true;
}

/** Every key of the caller's project that VSSM has a type for, or the one named (KEY_NOT_FOUND if none). */
export async function listKeys(call: VssmCall, body: Decoded<typeof LIST_KEYS_REQUEST>): Promise<ListKeysResponse> {
  const wanted = await call.audit.checked(() => (body.keyType === '' ? undefined : parseKeyType(body.keyType)));
  const listing: Listing = { symmetricKey: [], asymmetricKey: [], macKey: [] };
  if (body.keyName !== '') {
    const ref = await call.audit.checked(() => vssmKeyRef(call, body.keyName));
    const key = await call.engine.keys.describe(call.caller, ref);
    const listed = await addKey(call, listing, key, wanted);
    if (!listed) await call.audit.checked(() => {
      throw new CofferError('KEY_NOT_FOUND', 'no key of that name and type');
    });
    return listing;
  }
  const project = await call.audit.checked(() => vssmProject(call));
  let scanned = 0;
  for (let after: string | undefined; scanned < MAX_LISTED_KEYS;) {
    const page = await call.engine.keys.list(call.caller, project, { limit: PAGE, ...(after === undefined ? {} : { after }) });
    for (const key of page) await addKey(call, listing, key, wanted);
    scanned += page.length;
    after = page.at(-1)?.name;
    if (page.length < PAGE) break;
  }
  return listing;
}
