// Child process of the crash test: commits pairs of keys until killed, printing each pair's number
// only after its commit has resolved, so every printed number is an acknowledged write.
import { openSqliteStore } from './sqlite-store.ts';

/** A safety stop in case the parent dies without killing us. */
const MAX_COMMITS = 20_000;

/** The value stored under both keys of pair `i`: its size varies so pages fill unevenly. */
export function crashValue(i: number): Uint8Array {
  return new TextEncoder().encode(`pair ${i};`.repeat((i % 40) + 1));
}

export function crashKeys(i: number): readonly [string, string] {
  return [`crash/${i}/a`, `crash/${i}/b`];
}

async function main(path: string): Promise<void> {
  const store = await openSqliteStore(path);
  for (let i = 0; i < MAX_COMMITS; i++) {
    const [a, b] = crashKeys(i);
    await store.commit([
      { op: 'put', key: a, value: crashValue(i), expectVersion: 0 },
      { op: 'put', key: b, value: crashValue(i), expectVersion: 0 },
    ]);
    process.stdout.write(`${i}\n`);
  }
  await store.close();
}

if (import.meta.main) {
  const path = process.argv[2];
  if (path === undefined) throw new Error('usage: crash-writer.fixture.ts <store path>');
  await main(path);
}
