// State and version rules enforced on every use of a key.
import { CofferError } from '../errors.ts';
import type { KeyRecord, KeyVersionRecord } from '../key-record.ts';

/** Only ENABLED keys may be used (or rotated); each other state has its own code. */
export function requireUsable(record: KeyRecord): void {
  switch (record.state) {
    case 'ENABLED': return;
    case 'DISABLED': throw new CofferError('KEY_DISABLED', 'the key is disabled');
    case 'PENDING_DELETION': throw new CofferError('KEY_PENDING_DELETION', 'the key is pending deletion');
    case 'DESTROYED': throw new CofferError('KEY_DESTROYED', 'the key has been destroyed');
  }
}

export function selectVersion(record: KeyRecord, version: number): KeyVersionRecord {
  const found = record.versions[version - 1];
  if (found?.version !== version) throw new CofferError('KEY_VERSION_NOT_FOUND', `the key has no version ${version}`);
  return found;
}

/** A version decrypt and verify may use: it exists and is not below minDecryptVersion. */
export function selectDecryptVersion(record: KeyRecord, version: number): KeyVersionRecord {
  const found = selectVersion(record, version);
  if (version < record.minDecryptVersion) throw new CofferError('KEY_VERSION_DISABLED', `version ${version} is below the key's minimum decrypt version`);
  return found;
}

/** Versions to try when the input does not name one: newest first, down to minDecryptVersion. */
export function acceptedVersions(record: KeyRecord): KeyVersionRecord[] {
  return record.versions.filter((v) => v.version >= record.minDecryptVersion).reverse();
}

/** A key imported from its public half: no version has material, sealed or not, and it was never destroyed. */
export function isPublicOnly(record: KeyRecord): boolean {
  return record.state !== 'DESTROYED' && record.versions.every((v) => v.material === undefined && v.sealedMaterial === undefined && v.publicKey !== undefined);
}
