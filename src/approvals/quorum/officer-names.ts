// Officer principal names as they appear in quorum records and store paths.
import { CofferError } from '../../core/errors.ts';

// The identity directory's principal name pattern; names become store path segments, so no '/'.
const OFFICER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isOfficerName(value: unknown): value is string {
  return typeof value === 'string' && OFFICER_NAME.test(value);
}

export function requireOfficerName(value: unknown, what: string): string {
  if (!isOfficerName(value)) throw new CofferError('INVALID_ARGUMENT', `${what} must be a principal name`);
  return value;
}
