import type { OutputStream } from './io';

/** Reports how far a long job has gone. */
export interface Progress {
  /** Adds to the count of items done. */
  advance(count?: number): void;
  /** The total, once known (a replay learns it from the store's head position). */
  setTotal(total: number | undefined): void;
  /** Writes a line of text (a warning, a rejected line) to the stream without garbling the bar. */
  note(text: string): void;
  /** Clears the bar. Safe to call more than once. */
  finish(): void;
}

/** Where a progress bar is drawn and what it counts. */
export interface ProgressOptions {
  /** The stream to draw on: stderr, so that data on stdout stays clean. */
  readonly stream: OutputStream;
  /** What is being counted: "simulate", "verify". */
  readonly label: string;
  readonly total?: number;
  /** Unit shown after the rate: "events". */
  readonly unit?: string;
  /** Default: draw only when the stream is a terminal, so that logs and pipes stay clean. */
  readonly enabled?: boolean;
  /** Milliseconds since some origin; injected for tests. */
  readonly now?: () => number;
  /** Redraw at most this often. */
  readonly intervalMs?: number;
}

const formatCount = (n: number): string => Math.floor(n).toLocaleString('en-US');

const formatRate = (perSecond: number): string =>
  perSecond >= 1_000_000
    ? `${(perSecond / 1_000_000).toFixed(1)}M`
    : perSecond >= 10_000
      ? `${(perSecond / 1_000).toFixed(1)}k`
      : perSecond.toFixed(0);

/** Seconds as m:ss or h:mm:ss. */
export const formatDuration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
};

/**
 * The progress line: label, a bar when the total is known, counts, rate and ETA. The rate is the average
 * since the start (steady, unlike an instantaneous rate), and the ETA follows from it.
 */
export const renderProgress = (state: {
  readonly label: string;
  readonly unit: string;
  readonly done: number;
  readonly total: number | undefined;
  readonly elapsedMs: number;
  readonly columns: number;
}): string => {
  const rate = state.elapsedMs > 0 ? (state.done * 1000) / state.elapsedMs : 0;
  const rateText = `${formatRate(rate)} ${state.unit}/s`;
  if (state.total === undefined || state.total <= 0) {
    return `${state.label} ${formatCount(state.done)} ${state.unit}  ${rateText}`;
  }
  const fraction = Math.min(1, state.done / state.total);
  const eta = rate > 0 ? formatDuration((state.total - state.done) / rate) : '?';
  const tail = ` ${(fraction * 100).toFixed(0).padStart(3)}% ${formatCount(state.done)}/${formatCount(state.total)}  ${rateText}  ETA ${eta}`;
  const width = Math.max(10, Math.min(40, state.columns - state.label.length - tail.length - 4));
  const filled = Math.round(fraction * width);
  return `${state.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${tail}`;
};

/**
 * A progress bar on stderr. On a terminal it redraws one line in place (at most every `intervalMs`);
 * anywhere else it writes nothing at all, so that CI logs and redirected output carry no control codes.
 */
export const createProgress = (options: ProgressOptions): Progress => {
  const enabled = options.enabled ?? options.stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 100;
  const start = now();
  let done = 0;
  let total = options.total;
  let lastDraw = -Infinity;
  let drawn = false;
  let finished = false;

  const draw = (force: boolean): void => {
    if (!enabled || finished) return;
    const at = now();
    if (!force && at - lastDraw < intervalMs) return;
    lastDraw = at;
    // A terminal that reports no size (0 columns, as under `script`) is treated as 80 wide.
    const columns = options.stream.columns || 80;
    const line = renderProgress({
      label: options.label,
      unit: options.unit ?? 'events',
      done,
      total,
      elapsedMs: at - start,
      columns,
    }).slice(0, Math.max(1, columns - 1));
    options.stream.write(`\r\x1b[K${line}`);
    drawn = true;
  };

  return {
    advance(count = 1) {
      done += count;
      draw(false);
    },
    setTotal(value) {
      total = value;
      draw(true);
    },
    note(text) {
      if (drawn && !finished) options.stream.write('\r\x1b[K');
      options.stream.write(text.endsWith('\n') ? text : `${text}\n`);
      if (drawn) draw(true);
    },
    finish() {
      if (finished) return;
      if (drawn) options.stream.write('\r\x1b[K');
      finished = true;
    },
  };
};
