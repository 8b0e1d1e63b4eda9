// Child process of the multi-process test: increments one counter with compare-and-set, retrying on
// STORE_CONFLICT, so several of these racing on one file must end at exactly the sum of their work.
// It prints "ready" once the store is open and starts when a line arrives on stdin, so racers overlap.
import { isCofferError } from '../../core/errors.ts';
import { openSqliteStore } from './sqlite-store.ts';

export const COUNTER_KEY = 'counter';

async function increment(path: string, times: number): Promise<number> {
  const store = await openSqliteStore(path);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.destroy();
  let conflicts = 0;
  for (let done = 0; done < times; ) {
    const current = await store.get(COUNTER_KEY);
    const next = Number(new TextDecoder().decode(current?.value ?? new Uint8Array())) + 1;
    try {
      await store.commit([{ op: 'put', key: COUNTER_KEY, value: new TextEncoder().encode(String(next)), expectVersion: current?.version ?? 0 }]);
      done++;
    } catch (error) {
      if (!isCofferError(error, 'STORE_CONFLICT')) throw error;
      conflicts++;
    }
  }
  await store.close();
  return conflicts;
}

if (import.meta.main) {
  const [path, times] = process.argv.slice(2);
  if (path === undefined || times === undefined) throw new Error('usage: cas-incrementer.fixture.ts <store path> <times>');
  process.stdout.write(`conflicts ${await increment(path, Number(times))}\n`);
}
