// Request counters and latency histograms, labelled by route pattern (never a raw URL, so ids do
// not multiply series) and outcome (OK or a catalogue error code: a bounded set).
import type { MetricFamily, Sample } from './prometheus-text.ts';

/** Seconds; dense below 10 ms where the signing latency target (p99 < 5 ms) lives. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Histogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

export class HttpMetrics {
  /** `operation\u0000outcome` → count. */
  readonly #requests = new Map<string, number>();
  readonly #durations = new Map<string, Histogram>();

  observe(operation: string, outcome: string, seconds: number): void {
    const key = `${operation}\u0000${outcome}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let histogram = this.#durations.get(operation);
    if (histogram === undefined) {
      histogram = { counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(operation, histogram);
    }
    // Non-cumulative here; render() accumulates, as the format wants `le` buckets to be.
    const index = DURATION_BUCKETS.findIndex((le) => seconds <= le);
    if (index >= 0) histogram.counts[index] = (histogram.counts[index] ?? 0) + 1;
    histogram.sum += seconds;
    histogram.count += 1;
  }

  families(): MetricFamily[] {
    const requests: Sample[] = [...this.#requests].map(([key, value]) => {
      const [operation = '', outcome = ''] = key.split('\u0000');
      return { labels: { operation, outcome }, value };
    });
    const durations: Sample[] = [];
    for (const [operation, h] of this.#durations) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += h.counts[i] ?? 0;
        durations.push({ suffix: '_bucket', labels: { operation, le: String(le) }, value: cumulative });
      });
      durations.push({ suffix: '_bucket', labels: { operation, le: '+Inf' }, value: h.count });
      durations.push({ suffix: '_sum', labels: { operation }, value: h.sum });
      durations.push({ suffix: '_count', labels: { operation }, value: h.count });
    }
    return [
      { name: 'coffer_http_requests_total', help: 'HTTP requests by route pattern and outcome (OK or error code).', type: 'counter', samples: requests },
      { name: 'coffer_http_request_duration_seconds', help: 'HTTP request duration by route pattern.', type: 'histogram', samples: durations },
    ];
  }
}
