// The SQLite store across real processes: a writer killed with SIGKILL loses no acknowledged
// commit and leaves a sound file, and processes racing compare-and-set on one file lose no update.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from './index.ts';
import { crashKeys, crashValue } from './crash-writer.fixture.ts';
import { COUNTER_KEY } from './cas-incrementer.fixture.ts';

const CRASH_WRITER = join(import.meta.dirname, 'crash-writer.fixture.ts');
const CAS_INCREMENTER = join(import.meta.dirname, 'cas-incrementer.fixture.ts');
/** Enough acknowledged commits that the kill lands mid-commit or mid-checkpoint with high odds. */
const ACKS_BEFORE_KILL = 300;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-sqlite-proc-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Child {
  readonly exit: Promise<Exit>;
  /** Sends one line to the child's stdin. */
  send(line: string): void;
}

/** Starts a fixture; `onLine` sees each complete stdout line and may return true to SIGKILL the child. */
function startChild(script: string, args: readonly string[], onLine?: (line: string) => boolean): Child {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exit = new Promise<Exit>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      // The last piece has no newline yet: it is not an acknowledgement until it does.
      pending = lines.pop() ?? '';
      for (const line of lines) if (onLine?.(line) === true) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  // A child that exits early closes its stdin; a late write must not crash the test process.
  child.stdin.on('error', () => undefined);
  return { exit, send: (line) => child.stdin.write(`${line}\n`) };
}

describe('sqlite store across processes', () => {
  it('a writer killed with SIGKILL loses no acknowledged commit and leaves a sound file', { timeout: 20_000 }, async () => {
    const path = join(dir, 'crash.db');
    const acknowledged: number[] = [];
    const exit = await startChild(CRASH_WRITER, [path], (line) => {
      acknowledged.push(Number(line));
      return acknowledged.length >= ACKS_BEFORE_KILL;
    }).exit;
    assert.equal(exit.signal, 'SIGKILL', `the writer should have been killed, not exited: ${exit.stderr}`);
    assert.ok(acknowledged.length >= ACKS_BEFORE_KILL);

    const store = await openSqliteStore(path);
    try {
      assert.deepEqual(await store.checkIntegrity(), []);
      for (const i of acknowledged) {
        for (const key of crashKeys(i)) {
          const entry = await store.get(key);
          assert.ok(entry, `acknowledged key ${key} is missing`);
          assert.equal(entry.version, 1);
          assert.deepEqual(entry.value, crashValue(i), key);
        }
      }
      // Each commit wrote a pair: whatever survived beyond the acknowledgements survived whole.
      const keys = (await store.list('crash/')).map((entry) => entry.key);
      assert.equal(keys.length % 2, 0, 'a commit was torn');
      assert.ok(keys.length / 2 <= acknowledged.length + 1, 'at most one commit was unacknowledged when killed');
      assert.ok((await store.revision()) >= acknowledged.length);
    } finally {
      await store.close();
    }
  });

  it('processes racing compare-and-set on one file lose no update', { timeout: 20_000 }, async (t) => {
    const path = join(dir, 'race.db');
    // Create the file first so the racers do not also race the migration.
    await (await openSqliteStore(path)).close();
    const racers = 3;
    const times = 150;
    let ready = 0;
    const children: Child[] = [];
    const allReady = new Promise<void>((resolve) => {
      for (let i = 0; i < racers; i++) {
        children.push(
          startChild(CAS_INCREMENTER, [path, String(times)], (line) => {
            if (line === 'ready' && ++ready === racers) resolve();
            return false;
          }),
        );
      }
    });
    // Every racer has opened the store before any starts, so their commits overlap.
    await Promise.race([allReady, Promise.all(children.map((c) => c.exit))]);
    for (const child of children) child.send('go');
    const exits = await Promise.all(children.map((c) => c.exit));
    for (const exit of exits) assert.equal(exit.code, 0, exit.stderr);
    t.diagnostic(exits.map((exit) => exit.stdout.trim().split('\n').at(-1)).join(', '));
    const store = await openSqliteStore(path);
    try {
      const counter = await store.get(COUNTER_KEY);
      assert.equal(new TextDecoder().decode(counter?.value), String(racers * times));
      assert.equal(counter?.version, racers * times);
      assert.equal(await store.revision(), racers * times, 'conflicting commits used no revision');
    } finally {
      await store.close();
    }
  });
});
