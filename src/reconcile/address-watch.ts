import { createCoalescer } from './coalesce.js';
import type { Freshness } from './freshness.js';
import type { MonitorOptions } from './monitor.js';
import { superviseChild } from './supervised-child.js';

/**
 * `addresses: auto` in the daemon: a supervised `ip -o monitor address` child. Every address
 * added to or deleted from the tunnel interface triggers a pass (debounced), so the
 * own-address rules follow within a second instead of at the next scheduled pass. If the child
 * exits it is restarted with backoff, followed by a pass (changes meanwhile were missed). While it
 * is live and silent, the addresses read by the last pass still hold (`addresses`).
 */

/** The monitor's seams (spawner, log, timers, clock, trigger sink), plus the interface watched. */
export interface AddressWatchOptions extends Pick<MonitorOptions, 'spawner' | 'log' | 'timers' | 'now' | 'onTrigger'> {
  readonly iface: string;
  /** First and largest delay before a restart (default 1 s, 10 s). */
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
  /** Told about every line the monitor prints (any address change anywhere) and whether it is live. */
  readonly addresses?: Freshness;
}

/** A started watch; `stop` ends the child. */
export interface AddressWatch {
  readonly iface: string;
  stop(): Promise<void>;
}

/**
 * Whether one `ip -o monitor address` line concerns `iface` (`3: tailscale0    inet ...`).
 * IPv6 link-local addresses are never own-address rules (and change state during DAD after
 * every link-up), so their lines trigger nothing.
 */
export function concernsInterface(line: string, iface: string): boolean {
  const fields = line.replace(/^Deleted\s+/, '').split(/\s+/);
  return fields[1] === iface && !(fields[2] === 'inet6' && /^fe[89ab][0-9a-f]:/i.test(fields[3] ?? ''));
}

/** Starts watching at once. */
export function startAddressWatch(options: AddressWatchOptions): AddressWatch {
  const coalescer = createCoalescer({
    quietMs: 20, maxWaitMs: 200, now: options.now, timers: options.timers,
    fire: ({ first }) => options.onTrigger({ cause: 'addresses', detail: first.trim().replace(/\s+/g, ' ').slice(0, 120) }),
  });
  const child = superviseChild({
    spawner: options.spawner,
    timers: options.timers,
    now: options.now,
    file: 'ip',
    args: ['-o', 'monitor', 'address'],
    restartMinMs: options.restartMinMs ?? 1000,
    restartMaxMs: options.restartMaxMs ?? 10_000,
    onLine(line) {
      options.addresses?.changed();
      if (concernsInterface(line, options.iface)) coalescer.push(line);
    },
    onLive(restarted) {
      options.addresses?.setLive(true);
      if (restarted) options.onTrigger({ cause: 'addresses', detail: 'address monitor restarted' });
    },
    onDown: () => options.addresses?.setLive(false),
    onExit(exit, { restartInMs }) {
      options.log.warn({ exitCode: exit.exitCode, signal: exit.signal, stderr: exit.stderr.trim().slice(-300), restartInMs }, 'ip monitor address exited: restarting it');
    },
  });
  child.start();
  return {
    iface: options.iface,
    async stop() {
      coalescer.cancel();
      await child.stop();
    },
  };
}
