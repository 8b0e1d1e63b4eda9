// The field rules shared by the stats store and the telemetry parsers: names that become key segments,
// the two small enumerations, and UTC calendar days (YYYY-MM-DD) with their range limit.
import { CofferError } from '../../core/errors.ts';
import { STATS_DIMENSIONS, type StatsDimension } from '../service/signer-api.ts';

export type SigningPath = 'service' | 'direct';
export type SigningOutcome = 'signed' | 'failed';

export const SIGNING_PATHS: readonly SigningPath[] = ['service', 'direct'];
export const SIGNING_OUTCOMES: readonly SigningOutcome[] = ['signed', 'failed'];

/** Project and profile names (the profile's rule): no '/', so a name cannot reach into another key range. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A Coffer node as the SDK reports it (a host name, perhaps with a port). */
export const NODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** The node segment of an event that named none; NODE cannot match it, so it never collides with a real node. */
export const UNKNOWN_NODE = '-';
/** The longest range a query may list: a leap year, counting both ends. */
export const MAX_QUERY_DAYS = 366;

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function badField(field: string, message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `${field}: ${message}`);
}

export function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) throw badField(field, 'must be a name of 1 to 64 letters, digits, ".", "_" or "-"');
  return value;
}

/** A node name, or UNKNOWN_NODE where `allowUnknown` (a stored key or a filter asking for events without one). */
export function checkNode(value: unknown, field: string, allowUnknown: boolean): string {
  if (typeof value === 'string' && (NODE.test(value) || (allowUnknown && value === UNKNOWN_NODE))) return value;
  throw badField(field, 'must be a node name of 1 to 128 letters, digits, ".", "_", ":" or "-"');
}

export function checkPath(value: unknown, field: string): SigningPath {
  const found = SIGNING_PATHS.find((path) => path === value);
  if (found === undefined) throw badField(field, `must be one of ${SIGNING_PATHS.join(', ')}`);
  return found;
}

export function checkOutcome(value: unknown, field: string): SigningOutcome {
  const found = SIGNING_OUTCOMES.find((outcome) => outcome === value);
  if (found === undefined) throw badField(field, `must be one of ${SIGNING_OUTCOMES.join(', ')}`);
  return found;
}

/** groupBy: known dimensions, each at most once (an empty list groups everything into one row). */
export function checkDimensions(value: readonly unknown[], field: string): StatsDimension[] {
  const dimensions: StatsDimension[] = [];
  for (const item of value) {
    const found = STATS_DIMENSIONS.find((dimension) => dimension === item);
    if (found === undefined) throw badField(field, `must list dimensions of ${STATS_DIMENSIONS.join(', ')}`);
    if (dimensions.includes(found)) throw badField(field, `names ${found} twice`);
    dimensions.push(found);
  }
  return dimensions;
}

/** The UTC day of an instant, YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Milliseconds at the start of a real calendar day written YYYY-MM-DD (2026-02-30 is refused). */
export function dayStart(value: unknown, field: string): number {
  const match = typeof value === 'string' ? DAY.exec(value) : null;
  if (match !== null) {
    const [, year, month, day] = match.map(Number) as [number, number, number, number];
    const ms = Date.UTC(year, month - 1, day);
    // Date.UTC rolls 2026-02-30 over to March: a real day reads back as itself.
    if (year >= 1 && utcDay(new Date(ms)) === value) return ms;
  }
  throw badField(field, 'must be a date YYYY-MM-DD');
}

/** Every day from `from` to `to`, both included: INVALID_ARGUMENT if from > to or the range exceeds MAX_QUERY_DAYS. */
export function daysBetween(from: string, to: string): string[] {
  const first = dayStart(from, 'from');
  const last = dayStart(to, 'to');
  if (first > last) throw badField('from', 'must not be after to');
  const count = (last - first) / DAY_MS + 1;
  if (count > MAX_QUERY_DAYS) throw badField('from', `the range may span at most ${MAX_QUERY_DAYS} days`);
  return Array.from({ length: count }, (_, index) => utcDay(new Date(first + index * DAY_MS)));
}

/** The day `days` before (negative: after) a day already checked. */
export function dayBefore(day: string, days: number): string {
  return utcDay(new Date(dayStart(day, 'day') - days * DAY_MS));
}
