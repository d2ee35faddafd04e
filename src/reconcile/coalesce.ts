/**
 * Coalescing of kernel events: one nft transaction produces a burst of monitor lines (a table
 * re-created is ~30 of them), and they should cause ONE pass. A trailing debounce (`quietMs`
 * without a new event) with a cap (`maxWaitMs` after the first event) keeps the pass close to
 * the burst without waiting forever under a steady stream. Pure: timers are injected.
 */

/** The timer functions the coalescer needs (globalThis.setTimeout in production, fakes in tests). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface CoalescerOptions {
  /** Read at each event, so a caller can change them (the monitor, once it has seen a boundary). */
  readonly quietMs: number | (() => number);
  readonly maxWaitMs: number | (() => number);
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number;
  readonly timers: Timers;
  /** Called once per burst with how many events it held, the first one's summary and `by` of a boundary. */
  readonly fire: (burst: { count: number; first: string; by?: string }) => void;
}

/** Collects events; `push` for each, `boundary` when the writer's transaction is complete, `cancel` on shutdown. */
export interface Coalescer {
  push(summary: string): void;
  /** The burst is complete (a committed transaction): fire now, if anything is pending. */
  boundary(by: string): void;
  cancel(): void;
}

/** Trailing debounce with a maximum wait. */
export function createCoalescer(options: CoalescerOptions): Coalescer {
  let handle: unknown;
  let deadline = 0;
  let count = 0;
  let first = '';

  const flush = (by?: string) => {
    if (handle !== undefined) options.timers.clearTimeout(handle);
    handle = undefined;
    const burst = { count, first, ...(by ? { by } : {}) };
    count = 0;
    first = '';
    options.fire(burst);
  };
  const value = (v: number | (() => number)) => (typeof v === 'number' ? v : v());

  return {
    push(summary) {
      const now = options.now();
      if (count === 0) {
        deadline = now + value(options.maxWaitMs);
        first = summary;
      }
      count += 1;
      if (handle !== undefined) options.timers.clearTimeout(handle);
      const wait = Math.max(0, Math.min(value(options.quietMs), deadline - now));
      handle = options.timers.setTimeout(() => flush(), wait);
    },
    boundary(by) {
      if (count > 0) flush(by);
    },
    cancel() {
      if (handle !== undefined) options.timers.clearTimeout(handle);
      handle = undefined;
      count = 0;
    },
  };
}
