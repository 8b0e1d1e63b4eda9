// The declarative form of a profile's checks and its parser: everything malformed is refused with
// INVALID_ARGUMENT naming the field, unknown keys included; defaults are filled in; results are frozen.
import { isAbsolute } from 'node:path';
import { METADATA_KEY, parseArgTemplate } from './argv-template.ts';
import { compileAnchoredPattern } from './bounded-regex.ts';
import { FILE_TYPES, type FileType } from './file-type.ts';
import { globToRegExp } from './glob-pattern.ts';
import { integerField, invalidField, objectWithKeys, stringField, stringList } from './spec-fields.ts';

export const CHECK_KINDS = ['maxSize', 'fileType', 'requiredMetadata', 'allowedSubmitters', 'allowedBranches', 'command'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const MAX_CHECKS = 32;
export const COMMAND_TIMEOUT_MS = { min: 1, max: 3_600_000, default: 300_000 } as const;

interface SpecBase {
  /** Unique within a profile; defaults to the kind. */
  readonly name: string;
}
export interface MaxSizeSpec extends SpecBase { readonly kind: 'maxSize'; readonly maxBytes: number }
export interface FileTypeSpec extends SpecBase { readonly kind: 'fileType'; readonly allowed: readonly FileType[] }
export interface RequiredMetadataSpec extends SpecBase {
  readonly kind: 'requiredMetadata';
  readonly keys: readonly string[];
  /** Regular-expression sources, each matched against the whole value. */
  readonly patterns: Readonly<Record<string, string>>;
}
export interface AllowedSubmittersSpec extends SpecBase { readonly kind: 'allowedSubmitters'; readonly principals: readonly string[] }
export interface AllowedBranchesSpec extends SpecBase { readonly kind: 'allowedBranches'; readonly metadataKey: string; readonly patterns: readonly string[] }
export interface CommandSpec extends SpecBase {
  readonly kind: 'command';
  /** [program, ...args]; the program is literal, args may hold {path} and {metadata.<key>}. */
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  /** Names of the service's environment variables passed through; nothing else is. */
  readonly env: readonly string[];
  readonly cwd?: string;
}
export type CheckSpec = MaxSizeSpec | FileTypeSpec | RequiredMetadataSpec | AllowedSubmittersSpec | AllowedBranchesSpec | CommandSpec;

const NAME = { maxLength: 64, pattern: METADATA_KEY } as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Fields = Readonly<Record<string, unknown>>;
const PARSERS: { readonly [K in CheckKind]: { readonly keys: readonly string[]; readonly parse: (f: Fields, path: string, name: string) => Extract<CheckSpec, { kind: K }> } } = {
  maxSize: {
    keys: ['maxBytes'],
    parse: (f, path, name) => ({ kind: 'maxSize', name, maxBytes: integerField(f['maxBytes'], `${path}.maxBytes`, 0, Number.MAX_SAFE_INTEGER) }),
  },
  fileType: {
    keys: ['allowed'],
    parse: (f, path, name) => {
      const allowed = stringList(f['allowed'], `${path}.allowed`, { maxLength: 16, maxItems: FILE_TYPES.length });
      allowed.forEach((type, i) => {
        if (!(FILE_TYPES as readonly string[]).includes(type)) throw invalidField(`${path}.allowed[${String(i)}]`, `unknown file type; known: ${FILE_TYPES.join(', ')}`);
      });
      return { kind: 'fileType', name, allowed: allowed as readonly FileType[] };
    },
  },
  requiredMetadata: {
    keys: ['keys', 'patterns'],
    parse: (f, path, name) => {
      const keys = stringList(f['keys'], `${path}.keys`, { maxLength: 64, maxItems: 64, pattern: METADATA_KEY });
      const patterns: Record<string, string> = {};
      if (f['patterns'] !== undefined) {
        const raw = objectWithKeys(f['patterns'], `${path}.patterns`, keys);
        for (const [key, source] of Object.entries(raw)) {
          const field = `${path}.patterns.${key}`;
          // A non-string is refused here, before compiling, so the message names the real problem.
          if (typeof source !== 'string') throw invalidField(field, 'must be a string');
          compileAnchoredPattern(source, field);
          patterns[key] = source;
        }
      }
      return { kind: 'requiredMetadata', name, keys, patterns: Object.freeze(patterns) };
    },
  },
  allowedSubmitters: {
    keys: ['principals'],
    parse: (f, path, name) => ({ kind: 'allowedSubmitters', name, principals: stringList(f['principals'], `${path}.principals`, { maxLength: 256, maxItems: 256 }) }),
  },
  allowedBranches: {
    keys: ['metadataKey', 'patterns'],
    parse: (f, path, name) => {
      const metadataKey = f['metadataKey'] === undefined ? 'branch' : stringField(f['metadataKey'], `${path}.metadataKey`, { maxLength: 64, pattern: METADATA_KEY });
      const patterns = stringList(f['patterns'], `${path}.patterns`, { maxLength: 200, maxItems: 64 });
      patterns.forEach((glob, i) => globToRegExp(glob, `${path}.patterns[${String(i)}]`));
      return { kind: 'allowedBranches', name, metadataKey, patterns };
    },
  },
  command: {
    keys: ['argv', 'timeoutMs', 'env', 'cwd'],
    parse: (f, path, name) => {
      const argv = stringList(f['argv'], `${path}.argv`, { maxLength: 4096, maxItems: 64 });
      // The program is never a template: metadata must not choose what runs.
      if (parseArgTemplate(argv[0] ?? '', `${path}.argv[0]`).some((part) => !('literal' in part))) throw invalidField(`${path}.argv[0]`, 'the program cannot hold a placeholder');
      argv.forEach((arg, i) => parseArgTemplate(arg, `${path}.argv[${String(i)}]`));
      const timeoutMs = f['timeoutMs'] === undefined ? COMMAND_TIMEOUT_MS.default : integerField(f['timeoutMs'], `${path}.timeoutMs`, COMMAND_TIMEOUT_MS.min, COMMAND_TIMEOUT_MS.max);
      const env = f['env'] === undefined ? Object.freeze([]) : stringList(f['env'], `${path}.env`, { maxLength: 128, maxItems: 64, pattern: ENV_NAME });
      env.forEach((variable, i) => {
        if (variable.toUpperCase().startsWith('COFFER_')) throw invalidField(`${path}.env[${String(i)}]`, 'COFFER_* variables are set by the service');
      });
      const spec: CommandSpec = { kind: 'command', name, argv, timeoutMs, env };
      if (f['cwd'] === undefined) return spec;
      const cwd = stringField(f['cwd'], `${path}.cwd`, { maxLength: 4096 });
      if (!isAbsolute(cwd)) throw invalidField(`${path}.cwd`, 'must be an absolute path');
      return { ...spec, cwd };
    },
  },
};

function parseOne(value: unknown, path: string): CheckSpec {
  const kindValue = objectWithKeys(value, path, [...Object.values(PARSERS).flatMap((p) => p.keys), 'kind', 'name'])['kind'];
  if (typeof kindValue !== 'string' || !(CHECK_KINDS as readonly string[]).includes(kindValue)) throw invalidField(`${path}.kind`, `must be one of ${CHECK_KINDS.join(', ')}`);
  const kind = kindValue as CheckKind;
  const parser = PARSERS[kind];
  const fields = objectWithKeys(value, path, [...parser.keys, 'kind', 'name']);
  const name = fields['name'] === undefined ? kind : stringField(fields['name'], `${path}.name`, NAME);
  return Object.freeze(parser.parse(fields, path, name));
}

/** A profile's `checks`: an array of specs, each `{ kind, name?, ...its fields }`, in run order. */
export function parseCheckSpecs(value: unknown, path = 'checks'): CheckSpec[] {
  if (!Array.isArray(value)) throw invalidField(path, 'must be an array');
  if (value.length > MAX_CHECKS) throw invalidField(path, `at most ${String(MAX_CHECKS)} checks`);
  const specs = value.map((item, i) => parseOne(item, `${path}[${String(i)}]`));
  const seen = new Set<string>();
  specs.forEach((spec, i) => {
    // Results are reported by name, so two checks of one kind need names of their own.
    if (seen.has(spec.name)) throw invalidField(`${path}[${String(i)}].name`, `duplicate check name "${spec.name}"`);
    seen.add(spec.name);
  });
  return specs;
}
