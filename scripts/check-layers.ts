// Checks that imports between src/ layers point one way: a layer may import only itself and the
// layers before it in LAYERS (the foundation first). Run by `npm test`; exits 1 on any violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Foundation first. `signing` uses the module only through the SDK, so `client` precedes it. */
export const LAYERS = [
  'core', 'barrier', 'store', 'audit', 'approvals', 'cluster', 'pki', 'server', 'client', 'signing', 'cli',
] as const;

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

function layerOf(file: string): string | undefined {
  const rel = relative(src, file);
  if (rel.startsWith('..')) return undefined;
  return rel.split(sep)[0];
}

const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;
const violations: string[] = [];
for (const file of walk(src)) {
  const from = layerOf(file);
  const fromIndex = LAYERS.indexOf(from as (typeof LAYERS)[number]);
  if (fromIndex < 0) {
    violations.push(`${relative(root, file)}: folder "${from ?? ''}" is not a known layer`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(importPattern)) {
    const spec = match[1] ?? '';
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    const to = layerOf(target);
    if (to === undefined) {
      violations.push(`${relative(root, file)} imports ${spec}, outside src/`);
      continue;
    }
    const toIndex = LAYERS.indexOf(to as (typeof LAYERS)[number]);
    if (toIndex > fromIndex) violations.push(`${relative(root, file)} (${from}) imports ${spec} (${to}): layers point down only`);
  }
}

if (violations.length > 0) {
  console.error(`layer check failed:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`layer check: imports point one way across ${LAYERS.join(' < ')}`);
