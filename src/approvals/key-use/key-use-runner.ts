// Runs one approved use through the engine as the requester carrying the grant, and converts the
// engine's answer to the stored result (bytes base64url, inside the barrier-encrypted record) and back.
import type { ApprovalHooks, Caller, KeyEngine, KeyMetadata } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import { encodeBase64url } from '../../barrier/base64url.ts';
import type { StoredInput, StoredResult } from './key-use-request.ts';
import type { KeyUseResult } from './key-use-types.ts';

const bytesOf = (text: string): Buffer => Buffer.from(text, 'base64url');

function keyResult(use: 'unwrap' | 'rotate' | 'change-approvers', key: KeyMetadata): StoredResult {
  return { use, keyId: key.id, currentVersion: key.currentVersion };
}

/** The engine call for the stored input; `caller` carries the grant, which the engine consumes. */
export async function runUse(engine: KeyEngine, hooks: ApprovalHooks, caller: Caller, input: StoredInput): Promise<StoredResult> {
  switch (input.use) {
    case 'sign': {
      const r = await engine.crypto.sign(caller, input.keyId, {
        algorithm: input.algorithm,
        ...(input.message === undefined ? {} : { message: bytesOf(input.message) }),
        ...(input.digest === undefined ? {} : { digest: bytesOf(input.digest) }),
        ...(input.format === undefined ? {} : { format: input.format }),
      });
      return { use: 'sign', signature: encodeBase64url(r.signature), keyId: r.keyId, keyVersion: r.keyVersion, algorithm: r.algorithm };
    }
    case 'decrypt': {
      const r = await engine.crypto.decrypt(caller, bytesOf(input.ciphertext), input.context === undefined ? {} : { context: input.context });
      try {
        return { use: 'decrypt', plaintext: encodeBase64url(r.plaintext), keyId: r.keyId, keyVersion: r.keyVersion, algorithm: r.algorithm };
      } finally {
        r.plaintext.fill(0);
      }
    }
    case 'export': {
      const r = await engine.crypto.wrapKey(caller, input.wrappingKeyId, input.keyId, { algorithm: input.algorithm });
      return {
        use: 'export', wrappedKey: encodeBase64url(r.wrappedKey), wrappingKeyId: r.wrappingKeyId, wrappingKeyVersion: r.wrappingKeyVersion,
        targetKeyId: r.targetKeyId, targetKeyVersion: r.targetKeyVersion,
      };
    }
    case 'unwrap': {
      const newKey = input.newKey as unknown as { project: string; name: string; spec: string; usage: string };
      const key = await engine.keys.import(caller, {
        ...newKey, wrappingKey: input.wrappingKeyId, wrappingAlgorithm: input.wrappingAlgorithm, wrappedMaterial: bytesOf(input.wrappedMaterial),
      }, hooks);
      return keyResult('unwrap', key);
    }
    case 'rotate':
      return keyResult('rotate', await engine.keys.rotate(caller, input.keyId));
    case 'change-approvers':
      return keyResult('change-approvers', await engine.keys.changeApprovers(caller, input.keyId, input.approval, hooks));
  }
}

const text = (result: StoredResult, field: string): string => {
  const value = result[field];
  if (typeof value !== 'string') throw new CofferError('STORE_CORRUPT', 'a stored key-use result is malformed');
  return value;
};
const number = (result: StoredResult, field: string): number => {
  const value = result[field];
  if (typeof value !== 'number') throw new CofferError('STORE_CORRUPT', 'a stored key-use result is malformed');
  return value;
};

/** The stored result as the contract's KeyUseResult (bytes raw). */
export function resultOf(result: StoredResult): KeyUseResult {
  switch (result.use) {
    case 'sign':
      return { use: 'sign', signature: bytesOf(text(result, 'signature')), keyId: text(result, 'keyId'), keyVersion: number(result, 'keyVersion'), algorithm: text(result, 'algorithm') };
    case 'decrypt':
      return { use: 'decrypt', plaintext: bytesOf(text(result, 'plaintext')), keyId: text(result, 'keyId'), keyVersion: number(result, 'keyVersion'), algorithm: text(result, 'algorithm') };
    case 'export':
      return {
        use: 'export', wrappedKey: bytesOf(text(result, 'wrappedKey')), wrappingKeyId: text(result, 'wrappingKeyId'), wrappingKeyVersion: number(result, 'wrappingKeyVersion'),
        targetKeyId: text(result, 'targetKeyId'), targetKeyVersion: number(result, 'targetKeyVersion'),
      };
    case 'unwrap':
    case 'rotate':
    case 'change-approvers':
      return { use: result.use, keyId: text(result, 'keyId'), currentVersion: number(result, 'currentVersion') };
    default:
      throw new CofferError('STORE_CORRUPT', 'a stored key-use result is malformed');
  }
}
