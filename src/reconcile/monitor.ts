import type { ProcessSpawner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';
import { createCoalescer } from './coalesce.js';
import type { Timers } from './coalesce.js';
import type { Freshness } from './freshness.js';
import { isRelevant, parseMonitorLine, touchesIptFilter, touchesTables } from './monitor-events.js';
import type { EventScope } from './monitor-events.js';
import type { Trigger } from './reconciler.js';
import { superviseChild } from './supervised-child.js';

/**
 * A supervised `nft monitor` child (text mode): the kernel reports every nftables (and
 * iptables-nft) change, so drift is repaired within milliseconds instead of at the next scheduled
 * pass. The changes of one transaction become one trigger the moment nft prints that
 * transaction's `# new generation … by process …` line, named after that process; until such a
 * line has been seen (another nft version), a short trailing debounce with a cap stands in; a
 * transaction committed by one of the daemon's own children causes nothing. A
 * lost-events line triggers a resync at once; if the child dies it is restarted with backoff and
 * a pass runs once it is back, since changes made meanwhile were not reported.
 */

export interface MonitorOptions {
  readonly spawner: ProcessSpawner;
  readonly scope: EventScope;
  readonly log: Logger;
  readonly timers: Timers;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly onTrigger: (trigger: Trigger) => void;
  /**
   * Without transaction boundaries: quiet time that ends a burst (default 3 ms) and the longest a
   * burst may delay a pass (15 ms). With them, a transaction whose boundary line never comes fires
   * after BOUNDARY_WAIT_MS.
   */
  readonly quietMs?: number;
  readonly maxWaitMs?: number;
  /** First and largest restart delay (default 100 ms, 10 s). */
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
  /**
   * Told about every change in an `ip`/`ip6` `filter` table (where iptables-nft keeps Docker's
   * chains) and whether the monitor is live, so the Docker probe can be skipped while nothing there
   * changed. Such changes never cause a pass by themselves.
   */
  readonly iptFilter?: Freshness;
  /**
   * Told about every line that may mean a table of the scope changed (`touchesTables`), and
   * whether the monitor is live, so a pass may reuse the last reading of tsfw's own table while
   * nothing there changed. Own writes count too: what the kernel holds after them was not read.
   */
  readonly scopeTables?: Freshness;
  /** Whether a pid is one of the daemon's own children: its transaction (a repair) causes no pass. */
  readonly ownWrite?: (pid: number) => boolean;
}

/** Counters for state.json. */
export interface MonitorStatus {
  readonly running: boolean;
  readonly restarts: number;
  readonly lostEvents: number;
}

export interface Monitor {
  start(): void;
  stop(): Promise<void>;
  status(): MonitorStatus;
}

/** Once nft has shown it prints boundaries, how long a transaction may wait for its boundary line. */
const BOUNDARY_WAIT_MS = 250;

/** Builds the supervisor; nothing runs until `start`. */
export function createMonitor(options: MonitorOptions): Monitor {
  let lostEvents = 0;
  /** Whether this nft prints transaction boundaries (learnt from the first one). */
  let boundaries = false;

  const coalescer = createCoalescer({
    quietMs: () => (boundaries ? BOUNDARY_WAIT_MS : options.quietMs ?? 3),
    maxWaitMs: () => (boundaries ? BOUNDARY_WAIT_MS : options.maxWaitMs ?? 15),
    now: options.now,
    timers: options.timers,
    fire: ({ count, first, by }) => options.onTrigger({
      cause: 'event',
      detail: `${first}${count > 1 ? ` (+${count - 1} more)` : ''}${by ? ` by ${by}` : ''}`,
      ...(by ? { by } : {}),
    }),
  });

  const onLine = (text: string) => {
    const line = parseMonitorLine(text);
    if (options.scopeTables && touchesTables(line, options.scope.tables)) options.scopeTables.changed();
    if (line.kind === 'lost-events') {
      lostEvents += 1;
      options.iptFilter?.changed();
      options.log.warn({ lostEvents }, 'kernel dropped netlink events: resyncing now');
      coalescer.cancel();
      options.onTrigger({ cause: 'resync', detail: 'lost netlink events' });
      return;
    }
    if (line.kind === 'commit') {
      boundaries = true;
      // tsfw's own write: the pass that made it reads it back, so its events are dropped here.
      if (options.ownWrite?.(line.pid)) coalescer.cancel();
      else coalescer.boundary(`${line.process}[${line.pid}]`);
      return;
    }
    if (options.iptFilter && touchesIptFilter(line)) options.iptFilter.changed();
    if (isRelevant(line, options.scope)) {
      coalescer.push(line.kind === 'change' ? line.summary : 'change');
    } else if (line.kind === 'other') {
      options.log.debug({ line: line.text.slice(0, 200) }, 'nft monitor printed something unexpected');
    }
  };

  // After a (re)start, nft needs a moment to subscribe before a pass can trust what it reads.
  const child = superviseChild({
    spawner: options.spawner,
    timers: options.timers,
    now: options.now,
    file: 'nft',
    args: ['monitor'],
    onLine,
    ...(options.restartMinMs !== undefined ? { restartMinMs: options.restartMinMs } : {}),
    ...(options.restartMaxMs !== undefined ? { restartMaxMs: options.restartMaxMs } : {}),
    onLive(restarted) {
      options.iptFilter?.setLive(true);
      options.scopeTables?.setLive(true);
      if (restarted) options.onTrigger({ cause: 'monitor-restart', detail: 'events may have been missed while nft monitor was down' });
    },
    onDown() {
      options.iptFilter?.setLive(false);
      options.scopeTables?.setLive(false);
    },
    onExit(exit, { restartInMs }) {
      options.log.warn({ exitCode: exit.exitCode, signal: exit.signal, stderr: exit.stderr.trim().slice(-500), restartInMs }, 'nft monitor exited: restarting it');
    },
  });

  return {
    start: () => child.start(),
    async stop() {
      coalescer.cancel();
      await child.stop();
    },
    status: () => ({ running: child.running(), restarts: child.restarts(), lostEvents }),
  };
}
