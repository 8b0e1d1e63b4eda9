// The built-in checks: cheap, in-process, reading at most the artifact's first few KiB. Each turns any
// failure, even an unreadable file, into a failed result rather than a throw: a check fails closed.
import { compileAnchoredPattern, matchBounded, type MatchOutcome } from './bounded-regex.ts';
import { boundedText } from './bounded-output.ts';
import type { AllowedBranchesSpec, AllowedSubmittersSpec, FileTypeSpec, MaxSizeSpec, RequiredMetadataSpec } from './check-spec.ts';
import type { Check, CheckContext, CheckResult } from './check-types.ts';
import { detectFileType, fileTypeAllowed } from './file-type.ts';
import { globToRegExp } from './glob-pattern.ts';

interface Verdict {
  readonly passed: boolean;
  readonly output: string;
}

/** Wraps an evaluation with timing, abort handling and fail-closed error handling. */
function builtIn(name: string, kind: string, evaluate: (context: CheckContext) => Verdict | Promise<Verdict>): Check {
  return {
    name,
    kind,
    async run(context: CheckContext, signal: AbortSignal): Promise<CheckResult> {
      const started = performance.now();
      let verdict: Verdict;
      if (signal.aborted) verdict = { passed: false, output: 'check aborted before it ran' };
      else {
        try {
          verdict = await evaluate(context);
        } catch (error) {
          // Only the error's code (ENOENT, EACCES…): the output is kept with the job.
          const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unexpected error';
          verdict = { passed: false, output: `check could not run: ${code}` };
        }
      }
      return { name, kind, passed: verdict.passed, output: boundedText(verdict.output), durationMs: performance.now() - started };
    },
  };
}

export function maxSizeCheck(spec: MaxSizeSpec): Check {
  return builtIn(spec.name, spec.kind, (context) => ({
    passed: context.size <= spec.maxBytes,
    output: `artifact is ${String(context.size)} bytes; limit ${String(spec.maxBytes)}`,
  }));
}

export function fileTypeCheck(spec: FileTypeSpec): Check {
  return builtIn(spec.name, spec.kind, async (context) => {
    const detected = await detectFileType(context.path);
    const allowed = spec.allowed.join(', ');
    if (detected === undefined) return { passed: false, output: `file type not recognised; allowed: ${allowed}` };
    return { passed: fileTypeAllowed(detected, spec.allowed), output: `file type ${detected}; allowed: ${allowed}` };
  });
}

const MATCH_PROBLEMS: Readonly<Record<Exclude<MatchOutcome, 'match'>, string>> = {
  'no-match': 'does not match',
  'input-too-long': 'is too long to match',
  'timed-out': 'took too long to match (pattern backtracks)',
};

export function requiredMetadataCheck(spec: RequiredMetadataSpec): Check {
  const patterns = Object.entries(spec.patterns).map(([key, source]) => [key, compileAnchoredPattern(source, `patterns.${key}`)] as const);
  return builtIn(spec.name, spec.kind, (context) => {
    const problems: string[] = [];
    for (const key of spec.keys) {
      const value = Object.hasOwn(context.metadata, key) ? context.metadata[key] : undefined;
      if (value === undefined || value === '') problems.push(`metadata "${key}" is missing`);
    }
    for (const [key, pattern] of patterns) {
      const value = context.metadata[key];
      if (value === undefined || value === '') continue;
      const outcome = matchBounded(pattern, value);
      if (outcome !== 'match') problems.push(`metadata "${key}" ${MATCH_PROBLEMS[outcome]} /${pattern.source}/`);
    }
    return { passed: problems.length === 0, output: problems.length === 0 ? `metadata present: ${spec.keys.join(', ')}` : problems.join('\n') };
  });
}

export function allowedSubmittersCheck(spec: AllowedSubmittersSpec): Check {
  const principals = new Set(spec.principals);
  return builtIn(spec.name, spec.kind, (context) => ({
    passed: principals.has(context.submitter),
    output: principals.has(context.submitter) ? `submitter "${context.submitter}" is allowed` : `submitter "${context.submitter}" is not on the profile's list`,
  }));
}

export function allowedBranchesCheck(spec: AllowedBranchesSpec): Check {
  const globs = spec.patterns.map((glob, i) => globToRegExp(glob, `patterns[${String(i)}]`));
  return builtIn(spec.name, spec.kind, (context) => {
    const branch = Object.hasOwn(context.metadata, spec.metadataKey) ? context.metadata[spec.metadataKey] : undefined;
    if (branch === undefined || branch === '') return { passed: false, output: `metadata "${spec.metadataKey}" is missing` };
    const index = globs.findIndex((glob) => matchBounded(glob, branch) === 'match');
    return index >= 0
      ? { passed: true, output: `branch "${branch}" matches ${spec.patterns[index] ?? ''}` }
      : { passed: false, output: `branch "${branch}" matches none of: ${spec.patterns.join(', ')}` };
  });
}
