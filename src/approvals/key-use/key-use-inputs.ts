// What a use request is bound to, resolved when it is made: the guarded key and its current version
// (a decrypt's from its ciphertext header), the input digest exactly as the engine will audit it,
// the key's approval policy, and the input to store for the run. The requester must be allowed to do
// the use directly, by the engine's own rules.
import { checkOperation, resolveSigningAlgorithm, resolveWrappingAlgorithm } from '../../core/algorithms/index.ts';
import { authorizeCreate, authorizeKey, type KeyAction } from '../../core/engine/authorization.ts';
import { decodeHeader } from '../../core/engine/ciphertext-format.ts';
import { keyUseDigest, parseKeyApprovalPolicy, type Caller, type KeyEngine, type KeyMetadata, type KeyRef } from '../../core/engine/index.ts';
import { canonicalContext, requireName } from '../../core/engine/input-validation.ts';
import { CofferError, decryptFailed, isCofferError } from '../../core/errors.ts';
import type { KeyApprovalPolicy, KeyRecord } from '../../core/key-record.ts';
import { encodeBase64url } from '../../barrier/base64url.ts';
import { MAX_STORED_MESSAGE_BYTES, type StoredInput } from './key-use-request.ts';
import type { KeyUseInput } from './key-use-types.ts';

const MAX_DIGEST_BYTES = 64;
/** As the engine bounds wrapped material on import, and ciphertexts of stored size. */
const MAX_WRAPPED_BYTES = 16_384;
const MAX_CIPHERTEXT_BYTES = MAX_STORED_MESSAGE_BYTES + 1024;

export interface PreparedUse {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly project: string;
  readonly inputDigest: string;
  readonly policy: KeyApprovalPolicy;
  readonly input: StoredInput;
  /** change-approvers: the proposed policy (null: none). */
  readonly proposed?: KeyApprovalPolicy | null;
}

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

/** authorizeKey reads only project, owner and the shared list: the metadata carries all three. */
function authorize(caller: Caller, key: KeyMetadata, action: KeyAction): void {
  const view = { id: key.id, project: key.project, owner: key.owner, policy: { sharedWith: key.sharedWith } } as unknown as KeyRecord;
  authorizeKey(caller, view, action);
}

function guarded(key: KeyMetadata): KeyApprovalPolicy {
  if (key.approval === undefined) throw invalid('the key has no approval policy: use the direct route');
  return key.approval;
}

function bytes(value: unknown, what: string, max: number, min = 0): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`${what} must be bytes`);
  if (value.length > max) throw new CofferError('INPUT_TOO_LARGE', `${what} is too large for a key-use request`);
  if (value.length < min) throw invalid(`${what} must not be empty`);
  return value;
}

function refOf(value: unknown, what: string): KeyRef {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const { project, name } = value as Record<string, unknown>;
    return { project: requireName(project, `${what}.project`), name: requireName(name, `${what}.name`) };
  }
  throw invalid(`${what} must be a key id or {project, name}`);
}

export async function prepareUse(engine: KeyEngine, caller: Caller, input: KeyUseInput): Promise<PreparedUse> {
  const describe = (ref: KeyRef): Promise<KeyMetadata> => engine.keys.describe(caller, ref);
  const bound = (key: KeyMetadata, version: number, inputDigest: string, stored: StoredInput): PreparedUse => ({
    keyId: key.id, keyVersion: version, project: key.project, inputDigest, policy: guarded(key), input: stored,
  });
  switch (input.use) {
    case 'sign': {
      const key = await describe(refOf(input.key, 'key'));
      authorize(caller, key, 'use');
      guarded(key);
      const algorithm = resolveSigningAlgorithm(input.algorithm);
      checkOperation(key.spec, key.usage, 'SIGN', algorithm);
      if ((input.message === undefined) === (input.digest === undefined)) throw invalid('give exactly one of message and digest');
      const format: unknown = input.format;
      if (format !== undefined && format !== 'DER' && format !== 'RAW') throw invalid("signature format must be 'DER' or 'RAW'");
      const message = input.message === undefined ? undefined : bytes(input.message, 'message (sign larger messages by digest)', MAX_STORED_MESSAGE_BYTES);
      const digest = input.digest === undefined ? undefined : bytes(input.digest, 'digest', MAX_DIGEST_BYTES, 1);
      const stored: StoredInput = {
        use: 'sign', keyId: key.id, algorithm: input.algorithm,
        ...(message === undefined ? {} : { message: encodeBase64url(message) }),
        ...(digest === undefined ? {} : { digest: encodeBase64url(digest) }),
        ...(input.format === undefined ? {} : { format: input.format }),
      };
      return bound(key, key.currentVersion, keyUseDigest.sign(digest === undefined ? { message: message ?? new Uint8Array(0) } : { digest }), stored);
    }
    case 'decrypt': {
      const ciphertext = bytes(input.ciphertext, 'ciphertext', MAX_CIPHERTEXT_BYTES, 1);
      canonicalContext(input.context);
      const { header } = decodeHeader(ciphertext);
      let key: KeyMetadata;
      try {
        key = await describe(header.keyId);
      } catch (error) {
        // As the engine answers: a header naming a key the caller cannot see is an altered ciphertext.
        if (isCofferError(error, 'KEY_NOT_FOUND')) throw decryptFailed();
        throw error;
      }
      authorize(caller, key, 'use');
      const stored: StoredInput = { use: 'decrypt', ciphertext: encodeBase64url(ciphertext), ...(input.context === undefined ? {} : { context: { ...input.context } }) };
      return bound(key, header.keyVersion, keyUseDigest.decrypt(ciphertext), stored);
    }
    case 'export': {
      const key = await describe(refOf(input.key, 'key'));
      authorize(caller, key, 'manage');
      guarded(key);
      if (!key.exportable) throw new CofferError('KEY_NOT_EXPORTABLE', 'the key is not exportable');
      resolveWrappingAlgorithm(input.algorithm);
      const wrapping = await describe(refOf(input.wrappingKey, 'wrappingKey'));
      authorize(caller, wrapping, 'use');
      const stored: StoredInput = { use: 'export', keyId: key.id, wrappingKeyId: wrapping.id, algorithm: input.algorithm };
      return bound(key, key.currentVersion, keyUseDigest.export(wrapping.id, input.algorithm), stored);
    }
    case 'unwrap': {
      const wrapping = await describe(refOf(input.wrappingKey, 'wrappingKey'));
      authorize(caller, wrapping, 'use');
      guarded(wrapping);
      resolveWrappingAlgorithm(input.wrappingAlgorithm);
      const wrapped = bytes(input.wrappedMaterial, 'wrappedMaterial', MAX_WRAPPED_BYTES, 1);
      const { newKey } = input;
      const given: unknown = newKey;
      if (typeof given !== 'object' || given === null) throw invalid('newKey must be an object');
      requireName(newKey.project, 'newKey.project');
      requireName(newKey.name, 'newKey.name');
      authorizeCreate(caller, newKey.project);
      const stored: StoredInput = { use: 'unwrap', wrappingKeyId: wrapping.id, wrappingAlgorithm: input.wrappingAlgorithm, wrappedMaterial: encodeBase64url(wrapped), newKey: { ...newKey } };
      return bound(wrapping, wrapping.currentVersion, keyUseDigest.unwrap(wrapped), stored);
    }
    case 'rotate': {
      const key = await describe(refOf(input.key, 'key'));
      authorize(caller, key, 'manage');
      if (!guarded(key).sealed) throw invalid('only sealed keys rotate through approvals: rotate this key directly');
      return bound(key, key.currentVersion, keyUseDigest.rotate(key.id, key.currentVersion), { use: 'rotate', keyId: key.id });
    }
    case 'change-approvers': {
      const key = await describe(refOf(input.key, 'key'));
      authorize(caller, key, 'manage');
      guarded(key);
      const proposed = input.approval === null ? null : parseKeyApprovalPolicy(input.approval);
      const stored: StoredInput = { use: 'change-approvers', keyId: key.id, approval: proposed };
      return { ...bound(key, key.currentVersion, keyUseDigest.changeApprovers(proposed), stored), proposed };
    }
    default:
      throw invalid('unknown key use');
  }
}
