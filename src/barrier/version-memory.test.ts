import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VersionMemory } from './version-memory.ts';

describe('VersionMemory', () => {
  it('allows equal or newer versions and refuses older ones', () => {
    const memory = new VersionMemory();
    assert.ok(memory.allows('k', 'a', 1));
    memory.note('k', 'a', 3);
    assert.ok(memory.allows('k', 'a', 3));
    assert.ok(memory.allows('k', 'a', 4));
    assert.ok(!memory.allows('k', 'a', 2));
    memory.note('k', 'a', 2); // never lowers
    assert.ok(!memory.allows('k', 'a', 2));
    assert.ok(memory.allows('k', 'b', 1));
    assert.ok(memory.allows('j', 'a', 1));
    memory.forget('k', 'a');
    assert.ok(memory.allows('k', 'a', 1));
  });

  it('keeps kind and id apart even when they contain the separator', () => {
    const memory = new VersionMemory();
    memory.note('a:b', 'c', 5);
    assert.ok(memory.allows('a', 'b:c', 1));
    assert.ok(!memory.allows('a:b', 'c', 1));
  });

  it('evicts the least recently used record beyond its capacity', () => {
    const memory = new VersionMemory(2);
    memory.note('k', 'a', 5);
    memory.note('k', 'b', 5);
    memory.note('k', 'a', 5); // a is now the most recent
    memory.note('k', 'c', 5);
    assert.equal(memory.size, 2);
    assert.ok(memory.allows('k', 'b', 1), 'b was evicted');
    assert.ok(!memory.allows('k', 'a', 1));
    assert.ok(!memory.allows('k', 'c', 1));
    memory.clear();
    assert.equal(memory.size, 0);
    assert.throws(() => new VersionMemory(0), RangeError);
  });
});
