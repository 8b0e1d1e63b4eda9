import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchBuffer } from './batch-buffer.ts';

describe('BatchBuffer', () => {
  it('encodes UTF-8 across growth, and keeps taken bytes intact while the next batch is gathered', () => {
    const batch = new BatchBuffer();
    const lines = Array.from({ length: 3000 }, (_, i) => `{"principal":"zoë-${i}","note":"😀\u20ac"}\n`);
    for (const line of lines) batch.push(line);
    const first = batch.take();
    assert.equal(first.toString('utf8'), lines.join(''));
    const copy = Buffer.from(first);
    batch.push('second batch\n');
    assert.deepEqual(first, copy, 'gathering the next batch must not touch the one being written');
    assert.equal(batch.take().toString('utf8'), 'second batch\n');
    assert.equal(batch.length, 0);
    batch.push('dropped\n');
    batch.clear();
    assert.equal(batch.take().length, 0);
  });
});
