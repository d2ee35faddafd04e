/**
 * A full garbage collection at most once every `intervalMs`, run right after a pass (when the
 * daemon is about to idle). The daemon allocates a little with every pass; V8 promotes some of it
 * and, at that low rate, lets the old generation grow for many minutes before it collects it, so
 * RSS creeps up by megabytes between collections (docs/PERFORMANCE.md, "Soak and memory"). With
 * `--expose-gc` (the unit's and the image's NODE_OPTIONS) this keeps RSS at what the daemon
 * really holds; without it (`gc` absent) nothing happens. Clock and collector are injected.
 */
export function createIdleCollector(now: () => number, gc: (() => void) | undefined, intervalMs = 60_000): { afterPass(): void; collections(): number } {
  let last = now();
  let count = 0;
  return {
    afterPass() {
      if (gc === undefined || now() - last < intervalMs) return;
      last = now();
      count += 1;
      gc();
    },
    collections: () => count,
  };
}
