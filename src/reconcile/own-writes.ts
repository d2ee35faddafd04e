/**
 * The daemon's own children, by pid, for a short while: `nft monitor` names the process that
 * committed each transaction, and a transaction of tsfw's own (its write, read back in the same
 * pass) is no reason for another pass. Pids are forgotten after `keepMs` (the commit line arrives
 * within milliseconds), so a recycled pid of another program is not mistaken for tsfw's. Pure:
 * the clock is injected.
 */
export class OwnPids {
  private readonly seen = new Map<number, number>();

  constructor(private readonly now: () => number, private readonly keepMs = 10_000) {}

  /** A child was started. */
  add(pid: number): void {
    this.prune();
    this.seen.delete(pid);
    this.seen.set(pid, this.now());
  }

  /** Whether `pid` is one of the daemon's children of the last `keepMs`. */
  has(pid: number): boolean {
    const at = this.seen.get(pid);
    return at !== undefined && this.now() - at < this.keepMs;
  }

  private prune(): void {
    const limit = this.now() - this.keepMs;
    // Insertion order is start order: the oldest come first.
    for (const [pid, at] of this.seen) {
      if (at >= limit) break;
      this.seen.delete(pid);
    }
  }
}
