// Quorum handlers for key deletion, export (also as a replica for another cluster) and import of a foreign replica. A key's owner (a user or service) requests these,
// never an officer; officers approve. Both are checked against the key when requested.
import type { QuorumOperationHandler, QuorumParameters } from '../approvals/quorum/index.ts';
import { parseWrappingPublicKey, REPLICA_FORMAT, type Caller, type KeyEngine, type KeyMetadata, type KeyReplica, type Role } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import { encodeBase64 } from './base64-field.ts';
import type { ImportTokenService } from './import-tokens.ts';
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

/**
 * Two forms. {keyId, wrappingKeyId, algorithm}: the key's current version wrapped under a WRAP_UNWRAP
 * key, as the engine's wrapKey (exportable keys only). {keyId, targetPublicKey, targetFingerprint}:
 * a replica for another cluster, every version wrapped to that cluster's import-token public key,
 * exportable or not: the officers approve the exact key and the fingerprint of the target's key.
 */
function keyExport(keys: EngineSource): QuorumOperationHandler {
  const isReplica = (parameters: QuorumParameters): boolean => parameters['targetFingerprint'] !== undefined;
  const replicaTarget = (parameters: QuorumParameters): { publicKey: string; fingerprint: string } => {
    const publicKey = stringParameter(parameters, 'targetPublicKey', 4096);
    const fingerprint = stringParameter(parameters, 'targetFingerprint', 64);
    if (parseWrappingPublicKey(publicKey).fingerprint !== fingerprint) throw new CofferError('INVALID_ARGUMENT', 'targetFingerprint is not the SHA-256 of targetPublicKey');
    return { publicKey, fingerprint };
  };
  return {
    requesterRoles: KEY_OWNERS,
    validate: async (caller, parameters) => {
      if (isReplica(parameters)) {
        requireFields(parameters, ['keyId', 'targetPublicKey', 'targetFingerprint']);
        replicaTarget(parameters);
        const key = await owned(keys.engine, caller, keyIdParameter(parameters, 'keyId'));
        if (key.approval !== undefined) throw new CofferError('APPROVAL_REQUIRED', "a key under an approval policy stays where its approvers are");
        return;
      }
      requireFields(parameters, ['keyId', 'wrappingKeyId', 'algorithm']);
      stringParameter(parameters, 'algorithm', 64);
      const key = await owned(keys.engine, caller, keyIdParameter(parameters, 'keyId'));
      if (!key.exportable) throw new CofferError('KEY_NOT_EXPORTABLE', 'the key is not exportable');
      await keys.engine.keys.describe(caller, keyIdParameter(parameters, 'wrappingKeyId'));
    },
    run: async (caller, parameters) => {
      if (isReplica(parameters)) return keys.engine.crypto.exportReplica(caller, keyIdParameter(parameters, 'keyId'), replicaTarget(parameters));
      const wrapped = await keys.engine.crypto.wrapKey(caller, keyIdParameter(parameters, 'wrappingKeyId'), keyIdParameter(parameters, 'keyId'), {
        algorithm: stringParameter(parameters, 'algorithm', 64),
      });
      return { ...wrapped, wrappedKey: encodeBase64(wrapped.wrappedKey) };
    },
  };
}

/**
 * {importToken, replica}: a key replicated from another cluster (key.export's replica form), imported
 * under its original id and versions with an import token issued with preserveId to the requester,
 * who owns the new key. This cluster's officers approve the exact replica.
 */
function keyImportForeign(keys: EngineSource): QuorumOperationHandler {
  const replicaOf = (parameters: QuorumParameters): KeyReplica => {
    const replica = parameters['replica'];
    if (typeof replica !== 'object' || replica === null || Array.isArray(replica)) throw new CofferError('INVALID_ARGUMENT', 'replica must be the object key.export returned');
    const r = replica as Partial<KeyReplica>;
    if (r.format !== REPLICA_FORMAT || typeof r.key !== 'object' || !Array.isArray(r.versions) || typeof r.wrappingKeyFingerprint !== 'string') {
      throw new CofferError('INVALID_ARGUMENT', `replica must be a ${REPLICA_FORMAT} object`);
    }
    return replica as KeyReplica;
  };
  const tokenOf = (parameters: QuorumParameters): string => stringParameter(parameters, 'importToken', 36);
  return {
    requesterRoles: KEY_OWNERS,
    validate: async (caller, parameters) => {
      requireFields(parameters, ['importToken', 'replica']);
      const replica = replicaOf(parameters);
      const token = await keys.importTokens().describe(caller, tokenOf(parameters));
      if (!token.preserveId) throw new CofferError('INVALID_ARGUMENT', 'a replica needs an import token issued with preserveId');
      if (token.fingerprint !== replica.wrappingKeyFingerprint) throw new CofferError('INVALID_ARGUMENT', 'the replica is wrapped to another import token');
      if (token.project !== replica.key.project || token.spec !== replica.key.spec) throw new CofferError('INVALID_ARGUMENT', 'the import token was issued for another project or key spec');
    },
    run: (caller, parameters) => {
      const replica = replicaOf(parameters);
      return keys.importTokens().spend(caller, tokenOf(parameters), (token) => keys.engine.keys.importReplica(caller, replica, token));
    },
  };
}

/** Read at each call: the engine is the current unsealed period's. */
export interface EngineSource {
  readonly engine: KeyEngine;
  /** The import tokens of the current unsealed period (key.import-foreign spends one). */
  importTokens(): ImportTokenService;
}

export function keyOperations(keys: EngineSource): Record<'key.delete' | 'key.export' | 'key.import-foreign', QuorumOperationHandler> {
  return { 'key.delete': keyDelete(keys), 'key.export': keyExport(keys), 'key.import-foreign': keyImportForeign(keys) };
}
