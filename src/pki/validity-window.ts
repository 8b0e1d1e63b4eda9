// Validity periods: how long certificates live, how early they are renewed, and the `now` input.
import { CofferError } from '../core/errors.ts';

export const DAY_MS = 86_400_000;
/** The CA lives long enough that developers rarely re-trust it. */
export const CA_VALIDITY_YEARS = 5;
export const LEAF_VALIDITY_DAYS = 365;
/** Ten years: a bound on `days`, not a recommendation. */
export const MAX_LEAF_VALIDITY_DAYS = 3650;
/** A leaf (or the dev CA) this close to its end is replaced rather than reused. */
export const RENEW_BEFORE_MS = 30 * DAY_MS;
/** notBefore is backdated so a peer whose clock runs a few minutes behind still accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface ValidityWindow {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export function checkedNow(now: unknown): Date {
  if (now === undefined) return new Date();
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) {
    throw new CofferError('INVALID_ARGUMENT', 'now must be a valid Date');
  }
  return new Date(now.getTime());
}

export function checkedDays(days: unknown): number {
  if (days === undefined) return LEAF_VALIDITY_DAYS;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_LEAF_VALIDITY_DAYS) {
    throw new CofferError('INVALID_ARGUMENT', `days must be an integer from 1 to ${MAX_LEAF_VALIDITY_DAYS}`);
  }
  return days;
}

export function caValidity(now: Date): ValidityWindow {
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  return { notBefore: new Date(now.getTime() - CLOCK_SKEW_MS), notAfter };
}

/**
 * `days` from `now`, cut at the issuer's own end: a leaf that outlived its CA would fail
 * verification anyway, and a shorter honest notAfter triggers renewal in time.
 */
export function leafValidity(issuerNotAfter: Date, now: Date, days: number): ValidityWindow {
  if (issuerNotAfter.getTime() <= now.getTime()) {
    throw new CofferError('INVALID_ARGUMENT', 'the issuing CA certificate has expired');
  }
  const notAfter = Math.min(now.getTime() + days * DAY_MS, issuerNotAfter.getTime());
  return { notBefore: new Date(now.getTime() - CLOCK_SKEW_MS), notAfter: new Date(notAfter) };
}

/** Usable now and not within RENEW_BEFORE_MS of its end. */
export function isFreshAt(window: ValidityWindow, now: Date): boolean {
  return window.notBefore.getTime() <= now.getTime() && window.notAfter.getTime() - now.getTime() > RENEW_BEFORE_MS;
}
