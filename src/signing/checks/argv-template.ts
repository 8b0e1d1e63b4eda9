// Argument templates for command checks: `{path}` and `{metadata.<key>}` are replaced inside one argv
// element, which stays exactly one argument whatever the value holds (no shell ever reads it).
import type { CheckContext } from './check-types.ts';
import { invalidField } from './spec-fields.ts';

export type ArgPart = { readonly literal: string } | { readonly artifactPath: true } | { readonly metadataKey: string };

/** Metadata keys as a profile may name them, in placeholders and in requiredMetadata. */
export const METADATA_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_.-]*)\}/g;

/** Splits one argv element into literals and placeholders; an unknown `{name}` is a typo, so refused. */
export function parseArgTemplate(arg: string, path: string): readonly ArgPart[] {
  const parts: ArgPart[] = [];
  let last = 0;
  for (const match of arg.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (match.index > last) parts.push({ literal: arg.slice(last, match.index) });
    if (name === 'path') parts.push({ artifactPath: true });
    else if (name.startsWith('metadata.') && METADATA_KEY.test(name.slice('metadata.'.length))) parts.push({ metadataKey: name.slice('metadata.'.length) });
    else throw invalidField(path, `unknown placeholder {${name}}: use {path} or {metadata.<key>}`);
    last = match.index + match[0].length;
  }
  if (last < arg.length) parts.push({ literal: arg.slice(last) });
  return Object.freeze(parts);
}

/** The concrete argv, or the first metadata key a placeholder names that the job does not carry. */
export function renderArgs(templates: readonly (readonly ArgPart[])[], context: CheckContext): { readonly args: string[] } | { readonly missingKey: string } {
  const args: string[] = [];
  for (const parts of templates) {
    let arg = '';
    for (const part of parts) {
      if ('literal' in part) arg += part.literal;
      else if ('artifactPath' in part) arg += context.path;
      else {
        const value = Object.hasOwn(context.metadata, part.metadataKey) ? context.metadata[part.metadataKey] : undefined;
        if (value === undefined) return { missingKey: part.metadataKey };
        arg += value;
      }
    }
    args.push(arg);
  }
  return { args };
}
