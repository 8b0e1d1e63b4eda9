// Runs before `npm start` and `npm test`: installs the locked dependencies (Node 24 among them)
// when node_modules is missing or stale, so a fresh clone needs no other set-up step.
// Plain JavaScript because on a fresh clone it runs on the machine's own Node, not the pinned one.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const marker = 'node_modules/.package-lock.json';
const pinnedNode = 'node_modules/node/bin/node';
const stale = !existsSync(marker) || !existsSync(pinnedNode) ||
  statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs + 1000;
if (stale) {
  console.error('coffer: installing dependencies (npm ci)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
