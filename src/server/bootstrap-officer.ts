// The first officer: named with its certificate fingerprint at domain init, created by the directory
// on the first unseal (the directory needs the unsealed barrier). Kept in plain JSON in the store:
// a name and a certificate fingerprint are not secret.
import { CofferError } from '../core/errors.ts';
import type { Store, StoreWrite } from '../store/index.ts';
import type { PrincipalDirectory } from './identity/index.ts';

export const BOOTSTRAP_OFFICER_KEY = 'sys/bootstrap-officer';

export interface PendingOfficer {
  readonly name: string;
  /** SHA-256 of the officer certificate's DER, lowercase hex. */
  readonly fingerprint: string;
}

const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Accepts plain hex or colon-separated hex (openssl's -fingerprint output), any case. */
export function normaliseFingerprint(value: string): string {
  const hex = value.replaceAll(':', '').toLowerCase();
  if (!FINGERPRINT.test(hex)) throw new CofferError('INVALID_ARGUMENT', 'a certificate fingerprint is the SHA-256 of its DER in hex');
  return hex;
}

/** The store write that records the pending officer; committed together with the domain descriptor. */
export function pendingOfficerWrite(officer: PendingOfficer): StoreWrite {
  return { op: 'put', key: BOOTSTRAP_OFFICER_KEY, value: Buffer.from(JSON.stringify(officer)) };
}

function parsePending(value: Uint8Array): PendingOfficer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch (error) {
    throw new CofferError('STORE_CORRUPT', 'the pending officer record is not JSON', { cause: error });
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const { name, fingerprint } = record;
  if (typeof name !== 'string' || typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) {
    throw new CofferError('STORE_CORRUPT', 'the pending officer record is malformed');
  }
  return { name, fingerprint };
}

/**
 * Creates the pending officer if there is one and the directory is still empty, then removes the
 * record (also when principals already exist: the first officer is created once, never again).
 * Returns the officer's name when one was created.
 */
export async function applyPendingOfficer(store: Store, directory: PrincipalDirectory): Promise<string | undefined> {
  const entry = await store.get(BOOTSTRAP_OFFICER_KEY);
  if (entry === undefined) return undefined;
  const pending = parsePending(entry.value);
  let created: string | undefined;
  if (!(await directory.hasPrincipals())) {
    const officer = await directory.bootstrapOfficer({ name: pending.name, certificates: [{ fingerprint: pending.fingerprint }] });
    created = officer.name;
  }
  await store.commit([{ op: 'delete', key: BOOTSTRAP_OFFICER_KEY, expectVersion: entry.version }]).catch((error: unknown) => {
    // Another node removed it first: the officer exists either way.
    if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT')) throw error;
  });
  return created;
}
