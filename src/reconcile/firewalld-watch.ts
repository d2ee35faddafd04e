import type { MonitorOptions } from './monitor.js';
import { superviseChild } from './supervised-child.js';

/**
 * `integrations.firewalld: auto` in mode on: a supervised `busctl monitor` child on the system bus
 * that follows firewalld's `Reloaded` signal (`--reload`, `--complete-reload`) and its bus name
 * being taken (a start or restart). Either means firewalld has just rebuilt its configuration from
 * the permanent one, which may have been rewritten meanwhile (e.g. by config management): a pass
 * checks tsfw's items at once instead of at the next scheduled pass. The nft monitor does not help
 * here: firewalld's own table is not tsfw's, so its events cause no pass. The daemon starts it
 * only where a system bus socket exists (daemon-triggers.ts); should busctl still end at once, it
 * is retried with backoff up to a minute, logged once.
 */

const NAME = 'org.fedoraproject.FirewallD1';

/** The match rules: the signal from firewalld's interface, and its name changing owner. */
export const WATCH_ARGS: readonly string[] = [
  '--system', '--json=short', 'monitor',
  '--match', `type='signal',interface='${NAME}',member='Reloaded'`,
  '--match', `type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${NAME}'`,
];

/** What one `busctl --json=short monitor` line means for tsfw, if anything. Pure. */
export function firewalldEvent(line: string): 'reloaded' | 'started' | undefined {
  let message: { type?: string; interface?: string; member?: string; payload?: { data?: unknown } };
  try {
    message = JSON.parse(line) as typeof message;
  } catch {
    return undefined; // "Monitoring bus message stream." and other text
  }
  if (message.type !== 'signal') return undefined;
  if (message.interface === NAME && message.member === 'Reloaded') return 'reloaded';
  const data = message.payload?.data;
  if (message.member === 'NameOwnerChanged' && Array.isArray(data) && data[0] === NAME && typeof data[2] === 'string' && data[2] !== '') return 'started';
  return undefined;
}

/** The seams, as for the nft monitor. */
export interface FirewalldWatchOptions extends Pick<MonitorOptions, 'spawner' | 'log' | 'timers' | 'now' | 'onTrigger'> {
  /** First and largest restart delay (default 1 s, 60 s). */
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
}

/** A started watch; `stop` ends the child. */
export interface FirewalldWatch {
  stop(): Promise<void>;
}

/** Starts watching at once. */
export function startFirewalldWatch(options: FirewalldWatchOptions): FirewalldWatch {
  let warned = false;
  const child = superviseChild({
    spawner: options.spawner,
    timers: options.timers,
    now: options.now,
    file: 'busctl',
    args: WATCH_ARGS,
    restartMinMs: options.restartMinMs ?? 1_000,
    restartMaxMs: options.restartMaxMs ?? 60_000,
    onLine(line) {
      const event = firewalldEvent(line);
      if (event) options.onTrigger({ cause: 'firewalld', detail: event === 'reloaded' ? 'firewalld reloaded' : 'firewalld started' });
    },
    onExit(exit, { restartInMs, healthy }) {
      const fields = { exitCode: exit.exitCode, signal: exit.signal, stderr: exit.stderr.trim().slice(-300), restartInMs };
      // A host whose busctl ends every attempt at once: say so once, not every minute.
      if (healthy || !warned) options.log.info(fields, 'firewalld signal watch ended: retrying');
      else options.log.debug(fields, 'firewalld signal watch ended: retrying');
      warned = true;
    },
  });
  child.start();
  return { stop: () => child.stop() };
}
