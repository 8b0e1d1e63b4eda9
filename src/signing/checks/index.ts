// Pre-sign checks: declarative specs, their checks and the runner; only re-exports.
export type { ArtifactDigests, Check, CheckContext, CheckResult } from './check-types.ts';
export { parseCheckSpecs, CHECK_KINDS, COMMAND_TIMEOUT_MS, MAX_CHECKS } from './check-spec.ts';
export type { CheckKind, CheckSpec, MaxSizeSpec, FileTypeSpec, RequiredMetadataSpec, AllowedSubmittersSpec, AllowedBranchesSpec, CommandSpec } from './check-spec.ts';
export { buildCheck, type BuildCheckOptions } from './build-check.ts';
export { runChecks, type ChecksOutcome } from './run-checks.ts';
export { OUTPUT_LIMIT_BYTES } from './bounded-output.ts';
export { KILL_GRACE_MS } from './command-check.ts';
export { FILE_TYPES, detectFileType, type FileType, type DetectedFileType } from './file-type.ts';
export { globToRegExp } from './glob-pattern.ts';
export { MAX_PATTERN_LENGTH, MAX_MATCH_INPUT_LENGTH } from './bounded-regex.ts';
