import type { SpawnedChild } from '../exec/runner.js';
import { createCoalescer } from './coalesce.js';
import type { MonitorOptions } from './monitor.js';

/**
 * `addresses: auto` in the daemon: a supervised `ip -o monitor address` child. Every address
 * added to or deleted from the tunnel interface triggers a pass (debounced), so the
 * own-address rules follow within a second instead of at the next scheduled pass. If the child
 * exits it is restarted after `restartMs`, followed by a pass (changes meanwhile were missed).
 */

/** The monitor's seams (spawner, log, timers, clock, trigger sink), plus the interface watched. */
export interface AddressWatchOptions extends Pick<MonitorOptions, 'spawner' | 'log' | 'timers' | 'now' | 'onTrigger'> {
  readonly iface: string;
  /** Delay before a restart (default 1 s). */
  readonly restartMs?: number;
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
  let child: SpawnedChild | undefined;
  let stopped = false;
  let timer: unknown;
  const coalescer = createCoalescer({
    quietMs: 20, maxWaitMs: 200, now: options.now, timers: options.timers,
    fire: ({ first }) => options.onTrigger({ cause: 'addresses', detail: first.trim().replace(/\s+/g, ' ').slice(0, 120) }),
  });
  const spawn = (restarted: boolean) => {
    timer = undefined;
    if (stopped) return;
    const current = options.spawner.spawn('ip', ['-o', 'monitor', 'address'], (line) => {
      if (concernsInterface(line, options.iface)) coalescer.push(line);
    });
    child = current;
    if (restarted) options.onTrigger({ cause: 'addresses', detail: 'address monitor restarted' });
    void current.exited.then((exit) => {
      if (child === current) child = undefined;
      if (stopped) return;
      options.log.warn({ exitCode: exit.exitCode, signal: exit.signal, stderr: exit.stderr.trim().slice(-300) }, 'ip monitor address exited: restarting it');
      timer = options.timers.setTimeout(() => spawn(true), options.restartMs ?? 1000);
    });
  };
  spawn(false);
  return {
    iface: options.iface,
    async stop() {
      stopped = true;
      coalescer.cancel();
      if (timer !== undefined) options.timers.clearTimeout(timer);
      const current = child;
      child = undefined;
      if (current) {
        current.kill('SIGTERM');
        await current.exited;
      }
    },
  };
}
