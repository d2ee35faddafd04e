import type { DriftItem } from '../backends/types.js';

/**
 * Drift classification for the anti-fight logic: which owned objects keep being changed, and how
 * often, within a sliding window. Pure: the caller passes the time.
 */

/** The object a drift item is about, as one stable name: `inet tsfw chain ts-input`. */
export function driftObject(item: DriftItem): string {
  const where = `${item.family} ${item.table}`;
  return item.chain ? `${where} chain ${item.chain}` : `${where} table`;
}

/** Distinct objects of a pass's drift, in first-seen order. */
export function driftObjects(drift: readonly DriftItem[]): string[] {
  return [...new Set(drift.map(driftObject))];
}

/** One line per drift item for logs: what differed, not the whole plan. */
export function driftDetails(drift: readonly DriftItem[], max = 10): string[] {
  const lines = drift.slice(0, max).map((d) => d.detail);
  return drift.length > max ? [...lines, `… and ${drift.length - max} more`] : lines;
}

/** How often one object had to be repaired in the window. */
export interface FightCount {
  readonly object: string;
  readonly count: number;
}

/**
 * How soon after tsfw restored an object its next undo counts as a fight. A burst of distinct
 * changes (a firewalld reload, a Docker restart, several tampers) is repaired for free; only an
 * object undone again this soon after its repair spends the repair budget.
 */
export const REUNDO_WINDOW_MS = 5_000;

/** Repairs per object over the last `windowMs`: "who/what keeps changing" for logs and status. */
export class FightLog {
  private entries: { at: number; objects: readonly string[]; by?: string }[] = [];
  /** When tsfw last wrote each object (any cause), for telling a fight from a burst. */
  private restored = new Map<string, number>();

  constructor(private windowMs: number) {}

  /** Records one repair touching these objects, undone by `by` when the kernel said who. */
  record(at: number, objects: readonly string[], by?: string): void {
    this.entries.push({ at, objects, ...(by ? { by } : {}) });
  }

  /**
   * The programs whose changes tsfw had to repair within the window, by name (a shell loop runs a
   * new `nft` each time), most frequent first.
   */
  writers(now: number): string[] {
    const counts = new Map<string, number>();
    for (const e of this.entries) {
      if (e.at <= now - this.windowMs || !e.by) continue;
      const name = e.by.replace(/\[\d+\]$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1]).map(([by]) => by);
  }

  /** Notes that tsfw has just written these objects back. */
  markRestored(at: number, objects: readonly string[]): void {
    for (const o of objects) this.restored.set(o, at);
    for (const [o, when] of this.restored) if (when <= at - REUNDO_WINDOW_MS) this.restored.delete(o);
  }

  /** Whether any of these objects was restored by tsfw within REUNDO_WINDOW_MS: a fight, not a burst. */
  isReundo(now: number, objects: readonly string[]): boolean {
    return objects.some((o) => {
      const when = this.restored.get(o);
      return when !== undefined && when > now - REUNDO_WINDOW_MS;
    });
  }

  /** Counts within the window, most repaired first. */
  counts(now: number): FightCount[] {
    this.entries = this.entries.filter((e) => e.at > now - this.windowMs);
    const counts = new Map<string, number>();
    for (const e of this.entries) for (const o of e.objects) counts.set(o, (counts.get(o) ?? 0) + 1);
    return [...counts].map(([object, count]) => ({ object, count })).sort((a, b) => b.count - a.count || (a.object < b.object ? -1 : 1));
  }

  /** Changes the window (config reload). */
  setWindow(windowMs: number): void {
    this.windowMs = windowMs;
  }
}
