// Signing statistics: counters in a Store, and the telemetry and query parsers; only re-exports.
export {
  MAX_QUERY_DAYS, SIGNING_OUTCOMES, SIGNING_PATHS, UNKNOWN_NODE, type SigningOutcome, type SigningPath,
} from './stats-fields.ts';
export { CONFLICT_TRIES, SigningStats, STATS_PREFIX, type SigningStatsOptions, type StatsEvent, type StatsFilter } from './stats-store.ts';
export {
  DEFAULT_QUERY_DAYS, MAX_TELEMETRY_DURATION_MS, MAX_TELEMETRY_SIZE, parseStatsQuery, parseTelemetryEvent, telemetryStatsEvent, type ParsedStatsQuery,
} from './telemetry.ts';
