// Rewrites the table in docs/errors.md from CATALOGUE (npm run docs:errors); the prose above stays.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE, ERROR_CODES } from '../src/core/errors.ts';

const path = join(import.meta.dirname, '..', 'docs', 'errors.md');
const doc = readFileSync(path, 'utf8');
const head = doc.slice(0, doc.indexOf('| Code | HTTP | Meaning |'));
const rows = ERROR_CODES.map((code) => `| \`${code}\` | ${CATALOGUE[code].status} | ${CATALOGUE[code].description} |`);
writeFileSync(path, `${head}| Code | HTTP | Meaning |\n| --- | --- | --- |\n${rows.join('\n')}\n`);
console.log(`docs/errors.md: ${rows.length} codes`);
