// Turns a key prefix into a half-open range [prefix, end) in code point order (= UTF-8 byte order),
// so backends can answer prefix queries from an index without LIKE and its wildcards.

const MAX_CODE_POINT = 0x10ffff;
const LAST_BEFORE_SURROGATES = 0xd7ff;
const FIRST_AFTER_SURROGATES = 0xe000;

/**
 * The smallest string greater than every string that starts with `prefix`, or undefined when no
 * such bound exists (an empty prefix, or one made only of U+10FFFF). Incrementing the last code
 * point works because any key with the prefix agrees with it up to there and is smaller at that
 * position; surrogates are skipped since well-formed keys never contain them.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (char) => char.codePointAt(0) ?? 0);
  while (points.length > 0) {
    const last = points.pop() ?? MAX_CODE_POINT;
    if (last < MAX_CODE_POINT) {
      const next = last === LAST_BEFORE_SURROGATES ? FIRST_AFTER_SURROGATES : last + 1;
      return String.fromCodePoint(...points, next);
    }
  }
  return undefined;
}

/** Compares two keys in code point order, the order every Store lists in (JS `<` uses UTF-16 units). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
