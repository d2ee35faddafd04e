import type { ChildExit, ProcessSpawner, SpawnedChild } from '../exec/runner.js';
import type { Timers } from './coalesce.js';

/**
 * One long-running watcher child (`nft monitor`, `ip -o monitor address`, `busctl monitor`) kept
 * alive: spawned on `start`, restarted with doubling backoff when it exits unasked (back to the
 * minimum once it had run `healthyMs`), ended on `stop`. A child that has run `settleMs` counts as
 * subscribed (`live`): only from then on may a caller trust that it would have reported a change.
 * The one supervisor every daemon watcher uses, so none of them forgets a part of it.
 */

export interface SupervisedChildOptions {
  readonly spawner: ProcessSpawner;
  readonly timers: Timers;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly file: string;
  readonly args: readonly string[];
  readonly onLine: (line: string) => void;
  /** The child exited unasked; it is restarted after `restartInMs`. */
  readonly onExit: (exit: ChildExit, restart: { readonly restartInMs: number; readonly healthy: boolean }) => void;
  /** The child (first or restarted) has run `settleMs`; `restarted` says whether reports may have been missed. */
  readonly onLive?: (restarted: boolean) => void;
  /** The child is gone (exited, or stopped): nothing is being reported until the next `onLive`. */
  readonly onDown?: () => void;
  /** First and largest restart delay (default 100 ms, 10 s). */
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
  /** How long a child needs to subscribe (default 100 ms). */
  readonly settleMs?: number;
  /** A child that ran this long was healthy: the next restart waits the minimum (default 30 s). */
  readonly healthyMs?: number;
}

/** A supervised child; nothing runs until `start`. */
export interface SupervisedChild {
  start(): void;
  stop(): Promise<void>;
  /** A child process exists now. */
  running(): boolean;
  /** The current child has run `settleMs` and not exited. */
  live(): boolean;
  /** How often it was restarted. */
  restarts(): number;
}

/** Builds the supervisor. */
export function superviseChild(options: SupervisedChildOptions): SupervisedChild {
  const minDelay = options.restartMinMs ?? 100;
  const maxDelay = options.restartMaxMs ?? 10_000;
  const settleMs = options.settleMs ?? 100;
  const healthyMs = options.healthyMs ?? 30_000;
  let child: SpawnedChild | undefined;
  let stopped = true;
  let isLive = false;
  let restarts = 0;
  let delay = minDelay;
  let timer: unknown;

  const clear = () => {
    if (timer !== undefined) options.timers.clearTimeout(timer);
    timer = undefined;
  };
  const down = () => {
    isLive = false;
    options.onDown?.();
  };

  const spawn = (restarted: boolean) => {
    timer = undefined;
    if (stopped) return;
    const startedAt = options.now();
    const current = options.spawner.spawn(options.file, options.args, options.onLine);
    child = current;
    timer = options.timers.setTimeout(() => {
      timer = undefined;
      if (child !== current) return;
      isLive = true;
      options.onLive?.(restarted);
    }, settleMs);
    void current.exited.then((exit) => {
      if (child !== current) return;
      child = undefined;
      if (stopped) return;
      clear();
      down();
      const healthy = options.now() - startedAt > healthyMs;
      delay = healthy ? minDelay : delay;
      restarts += 1;
      options.onExit(exit, { restartInMs: delay, healthy });
      timer = options.timers.setTimeout(() => spawn(true), delay);
      delay = Math.min(delay * 2, maxDelay);
    });
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      delay = minDelay;
      spawn(false);
    },
    async stop() {
      stopped = true;
      clear();
      const current = child;
      child = undefined;
      down();
      if (current) {
        current.kill('SIGTERM');
        await current.exited;
      }
    },
    running: () => child !== undefined,
    live: () => isLive,
    restarts: () => restarts,
  };
}
