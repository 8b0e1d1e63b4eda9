// A transfer progress bar for stderr: redrawn in place on a terminal (at most ~10 times a second),
// one summary line when the transfer ends on anything else (CI logs), never on standard output.

/** What the bar needs of a stream: process.stderr fits. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export interface ProgressState {
  readonly sent: number;
  readonly total: number;
  readonly elapsedMs: number;
}

/** Redraws closer together than this are skipped: a terminal cannot show more, and each costs a write. */
export const REDRAW_INTERVAL_MS = 100;
const MIN_BAR_WIDTH = 10;
const MAX_BAR_WIDTH = 40;
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** Bytes in decimal units, three significant digits: 999 B, 1.50 MB, 20.0 GB. */
export function humanBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${UNITS[unit] ?? ''}`;
}

/** A duration as m:ss, or h:mm:ss from an hour. */
export function humanDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function rateOf(state: ProgressState): number {
  return state.elapsedMs > 0 ? (state.sent / state.elapsedMs) * 1000 : 0;
}

function percentOf(state: ProgressState): number {
  if (state.total <= 0) return 100;
  return Math.min(100, Math.max(0, Math.floor((state.sent / state.total) * 100)));
}

/** The text after the bar: percent, bytes sent of total, rate and time left. */
function figures(state: ProgressState): string {
  const rate = rateOf(state);
  const left = Math.max(0, state.total - state.sent);
  const eta = left === 0 ? humanDuration(0) : rate > 0 ? humanDuration(left / rate) : '--:--';
  return `${String(percentOf(state)).padStart(3)}%  ${humanBytes(state.sent)} / ${humanBytes(state.total)}  ${(rate / 1e6).toFixed(1)} MB/s  ETA ${eta}`;
}

/** One line of the bar for a terminal `columns` wide: `[#####-----]  45%  1.20 MB / 2.67 MB  5.2 MB/s  ETA 0:03`. */
export function formatProgress(state: ProgressState, columns = 80): string {
  const text = figures(state);
  const width = Math.min(MAX_BAR_WIDTH, Math.max(MIN_BAR_WIDTH, columns - text.length - 5));
  const filled = Math.round((percentOf(state) / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]  ${text}`;
}

/** The line left when the transfer is over: how much, how long, how fast. */
export function formatSummary(state: ProgressState, what = 'uploaded'): string {
  return `${what} ${humanBytes(state.sent)} in ${(state.elapsedMs / 1000).toFixed(1)} s (${(rateOf(state) / 1e6).toFixed(1)} MB/s)`;
}

export class ProgressBar {
  readonly #stream: ProgressStream;
  readonly #now: () => number;
  readonly #what: string;
  readonly #started: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #state: ProgressState = { sent: 0, total: 0, elapsedMs: 0 };
  #finished = false;

  constructor(stream: ProgressStream, options: { now?: () => number; what?: string } = {}) {
    this.#stream = stream;
    this.#now = options.now ?? Date.now;
    this.#what = options.what ?? 'uploaded';
    this.#started = this.#now();
  }

  /** Records progress; redraws on a terminal when the last redraw is old enough. */
  update(sent: number, total: number): void {
    if (this.#finished) return;
    const now = this.#now();
    this.#state = { sent, total, elapsedMs: now - this.#started };
    if (this.#stream.isTTY !== true || now - this.#lastDraw < REDRAW_INTERVAL_MS) return;
    this.#lastDraw = now;
    // \r returns to the line's start; ESC[K clears what a longer previous line left.
    this.#stream.write(`\r${formatProgress(this.#state, this.#stream.columns)}\x1b[K`);
  }

  /** The final line: the full bar on a terminal, the summary elsewhere. Only the first call counts. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#state = { ...this.#state, elapsedMs: this.#now() - this.#started };
    if (this.#stream.isTTY === true) this.#stream.write(`\r${formatProgress(this.#state, this.#stream.columns)}\x1b[K\n`);
    else this.#stream.write(`${formatSummary(this.#state, this.#what)}\n`);
  }

  /** Ends the bar's line without a summary (the transfer failed: the error follows on its own line). */
  abandon(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#stream.isTTY === true && this.#lastDraw !== Number.NEGATIVE_INFINITY) this.#stream.write('\n');
  }
}
