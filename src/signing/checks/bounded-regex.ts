// Regular expressions written by profile authors, made safe to run: the source is length-bounded and
// compiled alone (so it cannot break out of its anchors), the input is length-bounded, and every match
// runs under a vm timeout because a RegExp itself has no timeout and `(a+)+$` backtracks exponentially.
import { Script, createContext } from 'node:vm';
import { invalidField } from './spec-fields.ts';

export const MAX_PATTERN_LENGTH = 200;
/** Metadata values and branch names are short; a longer value fails its check rather than being tested. */
export const MAX_MATCH_INPUT_LENGTH = 1024;
/** Far above any sane match on 1 KiB, far below anything a caller would notice. */
export const MATCH_TIMEOUT_MS = 50;

export type MatchOutcome = 'match' | 'no-match' | 'input-too-long' | 'timed-out';

/** Compiles a pattern that must match the whole value; refuses bad syntax and long sources as INVALID_ARGUMENT. */
export function compileAnchoredPattern(source: string, path: string): RegExp {
  if (source.length > MAX_PATTERN_LENGTH) throw invalidField(path, `pattern longer than ${String(MAX_PATTERN_LENGTH)} characters`);
  try {
    // Compiled alone first: a source such as `a)|(b` must not escape the ^(?:…)$ wrapper below.
    new RegExp(source, 'u');
    return new RegExp(`^(?:${source})$`, 'u');
  } catch {
    throw invalidField(path, 'not a valid regular expression');
  }
}

interface MatchSandbox {
  pattern?: RegExp;
  input?: string;
}

let sandbox: MatchSandbox | undefined;
const testScript = new Script('pattern.test(input)');

/** Runs `pattern` on `input` with both bounded; a timeout is an outcome, never a hang or a throw. */
export function matchBounded(pattern: RegExp, input: string): MatchOutcome {
  if (input.length > MAX_MATCH_INPUT_LENGTH) return 'input-too-long';
  sandbox ??= createContext({}) as MatchSandbox;
  sandbox.pattern = pattern;
  sandbox.input = input;
  try {
    return testScript.runInContext(sandbox, { timeout: MATCH_TIMEOUT_MS }) === true ? 'match' : 'no-match';
  } catch {
    return 'timed-out';
  } finally {
    delete sandbox.pattern;
    delete sandbox.input;
  }
}
