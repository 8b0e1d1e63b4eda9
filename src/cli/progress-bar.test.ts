// The progress bar's text for fixed inputs, its redraw throttle on a terminal, and its one summary
// line elsewhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatProgress, formatSummary, humanBytes, humanDuration, ProgressBar, type ProgressStream } from './progress-bar.ts';

function recorder(isTTY: boolean): { stream: ProgressStream; writes: string[] } {
  const writes: string[] = [];
  return { stream: { isTTY, columns: 100, write: (text) => writes.push(text) > 0 }, writes };
}

describe('progress bar', () => {
  it('formats bytes in decimal units and durations as m:ss or h:mm:ss', () => {
    assert.deepEqual([0, 999, 1000, 1_500_000, 20_000_000_000, 123_456_789].map(humanBytes), ['0 B', '999 B', '1.00 kB', '1.50 MB', '20.0 GB', '123 MB']);
    assert.deepEqual([0, 59.4, 61, 3600, 3725].map(humanDuration), ['0:00', '0:59', '1:01', '1:00:00', '1:02:05']);
  });

  it('draws the bar, percent, bytes, rate and ETA for fixed inputs', () => {
    // 45 MB of 100 MB in 9 s: 5 MB/s, 55 MB left: 11 s; the bar takes what 80 columns leave (33), 45% of it filled.
    const line = formatProgress({ sent: 45_000_000, total: 100_000_000, elapsedMs: 9_000 }, 80);
    assert.equal(line, `[${'#'.repeat(15)}${'-'.repeat(18)}]   45%  45.0 MB / 100 MB  5.0 MB/s  ETA 0:11`);
    assert.ok(line.length < 80);
    assert.equal(formatProgress({ sent: 0, total: 2_000, elapsedMs: 0 }, 40), `[${'-'.repeat(10)}]    0%  0 B / 2.00 kB  0.0 MB/s  ETA --:--`);
    assert.equal(formatProgress({ sent: 2_000, total: 2_000, elapsedMs: 1_000 }, 200), `[${'#'.repeat(40)}]  100%  2.00 kB / 2.00 kB  0.0 MB/s  ETA 0:00`);
    assert.equal(formatSummary({ sent: 30_000_000, total: 30_000_000, elapsedMs: 2_500 }), 'uploaded 30.0 MB in 2.5 s (12.0 MB/s)');
  });

  it('redraws a terminal at most every 100 ms, and ends with the full bar on its own line', () => {
    let now = 1_000;
    const { stream, writes } = recorder(true);
    const bar = new ProgressBar(stream, { now: () => now });
    bar.update(10, 100);
    now += 50;
    bar.update(20, 100);
    now += 60;
    bar.update(30, 100);
    assert.equal(writes.length, 2, 'the update 50 ms after a redraw is skipped');
    assert.match(writes[1] ?? '', /^\r\[#{12}-{28}\] {3}30% {2}30 B \/ 100 B/);
    now += 10;
    bar.update(100, 100);
    bar.finish();
    bar.finish();
    assert.equal(writes.length, 3);
    assert.match(writes[2] ?? '', /^\r\[#+\]  100% .*\n$/);
  });

  it('prints nothing but one summary line when the stream is not a terminal', () => {
    let now = 0;
    const { stream, writes } = recorder(false);
    const bar = new ProgressBar(stream, { now: () => now });
    for (let sent = 0; sent <= 5_000_000; sent += 1_000_000) {
      now += 500;
      bar.update(sent, 5_000_000);
    }
    bar.finish();
    assert.deepEqual(writes, ['uploaded 5.00 MB in 3.0 s (1.7 MB/s)\n']);
  });

  it('abandons without a summary', () => {
    const { stream, writes } = recorder(false);
    const bar = new ProgressBar(stream);
    bar.update(1, 2);
    bar.abandon();
    bar.finish();
    assert.deepEqual(writes, []);
  });
});
