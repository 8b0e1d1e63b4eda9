import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchBuffer } from './batch-buffer.ts';

describe('BatchBuffer', () => {
  it('encodes UTF-8 across growth', () => {
    const batch = new BatchBuffer();
    assert.equal(batch.bytes().length, 0);
    const lines = Array.from({ length: 3000 }, (_, i) => `{"principal":"zoë-${i}","note":"😀\u20ac"}\n`);
    for (const line of lines) batch.push(line);
    const bytes = batch.bytes();
    assert.equal(bytes.toString('utf8'), lines.join(''));
    assert.equal(batch.length, bytes.length);
    assert.equal(bytes.length, Buffer.byteLength(lines.join('')));
  });
});
