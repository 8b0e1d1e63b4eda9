// A tiny glob for branch names: `*` and `?` stay within one `/`-separated segment, `**` crosses
// segments; everything else is literal. Converted to an anchored RegExp run through matchBounded.
import { MAX_PATTERN_LENGTH } from './bounded-regex.ts';
import { invalidField } from './spec-fields.ts';

function escapeLiteral(char: string): string {
  // Only syntax characters: with the `u` flag any other identity escape (`\-`) is a syntax error.
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

/**
 * `release/*` matches `release/1.2` but not `release/1/2`; `release/**` matches both and `release`;
 * `**\/main` matches `main` and `a/b/main`. Refuses patterns over MAX_PATTERN_LENGTH (INVALID_ARGUMENT).
 */
export function globToRegExp(glob: string, path = 'pattern'): RegExp {
  if (glob.length === 0 || glob.length > MAX_PATTERN_LENGTH) throw invalidField(path, `must be 1 to ${String(MAX_PATTERN_LENGTH)} characters`);
  let source = '';
  let i = 0;
  while (i < glob.length) {
    const char = glob.charAt(i);
    if (char === '*' && glob.charAt(i + 1) === '*') {
      // Runs of `*` beyond two add nothing but backtracking, so they collapse to one `**`.
      while (glob.charAt(i) === '*') i += 1;
      const atStart = source === '';
      const slashBefore = source.endsWith('\\/');
      if (glob.charAt(i) === '/' && (atStart || slashBefore)) {
        source += '(?:.*/)?';
        i += 1;
      } else if (i === glob.length && slashBefore) {
        source = `${source.slice(0, -2)}(?:/.*)?`;
      } else {
        source += '.*';
      }
      continue;
    }
    source += char === '*' ? '[^/]*' : char === '?' ? '[^/]' : escapeLiteral(char);
    i += 1;
  }
  return new RegExp(`^${source}$`, 'u');
}
