// The command table is consistent: unique names, and no command option that would shadow a global
// or connection option (a `--cert` meaning two things would silently send the wrong identity).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, GLOBAL_OPTIONS } from './command-table.ts';
import { CONNECTION_OPTIONS } from './connection.ts';

describe('coffer command table', () => {
  it('has unique names of one or two words', () => {
    const names = COMMANDS.map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^[a-z-]+(?: [a-z-]+)?$/);
  });

  it('never redefines a global or connection option', () => {
    const reserved = new Set([...Object.keys(GLOBAL_OPTIONS), ...Object.keys(CONNECTION_OPTIONS)]);
    const clashes = COMMANDS.flatMap((c) => Object.keys(c.options ?? {}).filter((o) => reserved.has(o)).map((o) => `${c.name} --${o}`));
    assert.deepEqual(clashes, []);
  });
});
