// Quorum handlers for key deletion and export. A key's owner (a user or service) requests these,
// never an officer; officers approve. Both are checked against the key when requested.
import type { QuorumOperationHandler, QuorumParameters } from '../approvals/quorum/index.ts';
import type { Caller, KeyEngine, KeyMetadata, Role } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import { encodeBase64 } from './base64-field.ts';
import { keyIdParameter, optionalInteger, requireFields, stringParameter } from './quorum-parameters.ts';

const KEY_OWNERS: readonly Role[] = ['user', 'service'];
/** The engine's bounds on a deletion's waiting period (days). */
const MIN_WAITING_DAYS = 7;
const MAX_WAITING_DAYS = 30;

/** The caller must own the key (it may see keys it does not own: ACCESS_DENIED, as the engine says). */
async function owned(engine: KeyEngine, caller: Caller, keyId: string): Promise<KeyMetadata> {
  const key = await engine.keys.describe(caller, keyId);
  if (key.owner !== caller.principal) throw new CofferError('ACCESS_DENIED', "only the key's owner may manage it");
  return key;
}

function keyDelete(keys: EngineSource): QuorumOperationHandler {
  const waitingDays = (p: QuorumParameters): number | undefined => optionalInteger(p, 'waitingDays', MIN_WAITING_DAYS, MAX_WAITING_DAYS);
  return {
    requesterRoles: KEY_OWNERS,
    validate: async (caller, parameters) => {
      requireFields(parameters, ['keyId'], ['waitingDays']);
      waitingDays(parameters);
      const key = await owned(keys.engine, caller, keyIdParameter(parameters, 'keyId'));
      if (key.state === 'PENDING_DELETION' || key.state === 'DESTROYED') throw new CofferError('INVALID_STATE_TRANSITION', `the key is ${key.state}`);
    },
    run: (caller, parameters) => keys.engine.keys.scheduleDeletion(caller, keyIdParameter(parameters, 'keyId'), waitingDays(parameters)),
  };
}

/** The key's current version wrapped under a WRAP_UNWRAP key, as the engine's wrapKey. */
function keyExport(keys: EngineSource): QuorumOperationHandler {
  return {
    requesterRoles: KEY_OWNERS,
    validate: async (caller, parameters) => {
      requireFields(parameters, ['keyId', 'wrappingKeyId', 'algorithm']);
      stringParameter(parameters, 'algorithm', 64);
      const key = await owned(keys.engine, caller, keyIdParameter(parameters, 'keyId'));
      if (!key.exportable) throw new CofferError('KEY_NOT_EXPORTABLE', 'the key is not exportable');
      await keys.engine.keys.describe(caller, keyIdParameter(parameters, 'wrappingKeyId'));
    },
    run: async (caller, parameters) => {
      const wrapped = await keys.engine.crypto.wrapKey(caller, keyIdParameter(parameters, 'wrappingKeyId'), keyIdParameter(parameters, 'keyId'), {
        algorithm: stringParameter(parameters, 'algorithm', 64),
      });
      return { ...wrapped, wrappedKey: encodeBase64(wrapped.wrappedKey) };
    },
  };
}

/** Read at each call: the engine is the current unsealed period's. */
export interface EngineSource {
  readonly engine: KeyEngine;
}

export function keyOperations(keys: EngineSource): { 'key.delete': QuorumOperationHandler; 'key.export': QuorumOperationHandler } {
  return { 'key.delete': keyDelete(keys), 'key.export': keyExport(keys) };
}
