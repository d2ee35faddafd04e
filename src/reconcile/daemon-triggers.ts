import { existsSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { BackendEventScope } from '../backends/factory.js';
import type { Config } from '../config/schema.js';
import type { ProcessSpawner } from '../exec/runner.js';
import { systemBusPresent } from '../integrations/firewalld/bus.js';
import type { Logger } from '../log/logger.js';
import { startAddressWatch } from './address-watch.js';
import type { AddressWatch } from './address-watch.js';
import { startFirewalldWatch } from './firewalld-watch.js';
import type { FirewalldWatch } from './firewalld-watch.js';
import type { WatchHints } from './freshness.js';
import { createMonitor } from './monitor.js';
import type { Monitor, MonitorStatus } from './monitor.js';
import type { Trigger } from './reconciler.js';
import { startSchedule } from './schedule.js';
import type { Schedule } from './schedule.js';

/**
 * The daemon's trigger sources besides signals (signals.ts): kernel events (nft monitor), the
 * tunnel's addresses (ip monitor), firewalld's reloads and restarts (busctl monitor), the schedule, the config file watcher and the systemd
 * watchdog. Each feeds the one pass queue through `trigger`; `sync` starts, restarts or stops
 * them to match the current config. The causes they raise are listed in causes.ts.
 */

export interface TriggerSourcesOptions {
  readonly spawner: ProcessSpawner;
  readonly trigger: (trigger: Trigger) => void;
  /** The config file (or its directory) changed on disk. */
  readonly onConfigFile: () => void;
  readonly log: { readonly daemon: Logger; readonly monitor: Logger; readonly schedule: Logger };
  /** Told by the watchers what changed, so passes may reuse probes (freshness.ts). */
  readonly hints?: WatchHints;
  /** Whether a system bus can be there (busctl monitor would end at once without one). */
  readonly busPresent?: () => boolean;
}

export interface TriggerSources {
  /** Matches the sources to `config` and the backend's event scope; starts nothing once stopping. */
  sync(config: Config, scope: BackendEventScope | undefined, stopping: boolean): Promise<void>;
  /** Whether `sync` would start something the host has gained since (a system bus). */
  needsSync(config: Config): boolean;
  /** Follows the config file's directory (best effort: SIGHUP always reloads). */
  watchConfig(path: string): void;
  /** A pass every `periodMs` under systemd's watchdog. */
  startWatchdog(periodMs: number): void;
  /** Whether kernel events are followed, and the monitor's counters. */
  monitorStatus(): MonitorStatus & { readonly enabled: boolean };
  stop(): Promise<void>;
}

/** Builds the sources; nothing runs until `sync`. */
export function createTriggerSources(options: TriggerSourcesOptions): TriggerSources {
  const { spawner, trigger, log } = options;
  // Only where a pass would ensure firewalld's items (mode on with the integration auto) and a
  // system bus exists: without one busctl ends at once (and firewalld cannot run either). A bus
  // that appears later (dbus started after tsfw) is noticed by the next pass (needsSync).
  const wantsFirewalldWatch = (config: Config) =>
    config.mode === 'on' && config.integrations.firewalld === 'auto' && (options.busPresent ?? systemBusPresent)();
  const clock = { timers: globalThis, now: () => performance.now() };
  let monitor: Monitor | undefined;
  let monitorKey = '';
  let addressWatch: AddressWatch | undefined;
  let firewalldWatch: FirewalldWatch | undefined;
  let schedule: Schedule | undefined;
  let watcher: FSWatcher | undefined;
  let watchTimer: NodeJS.Timeout | undefined;
  let watchdogTimer: NodeJS.Timeout | undefined;

  return {
    async sync(config, scope, stopping) {
      const key = scope && config.reconcile.watch ? JSON.stringify(scope) : '';
      if (key !== monitorKey && !stopping) {
        await monitor?.stop();
        monitor = undefined;
        monitorKey = key;
        if (scope && key) {
          monitor = createMonitor({ spawner, scope, log: log.monitor, ...clock, onTrigger: trigger, ...(options.hints ? { iptFilter: options.hints.iptFilter, scopeTables: options.hints.scopeTables, ownWrite: (pid: number) => options.hints!.own.has(pid) } : {}) });
          monitor.start();
        }
      }
      const iface = config.addresses === 'auto' ? config.interface : undefined;
      if (addressWatch?.iface !== iface) {
        await addressWatch?.stop();
        addressWatch = iface && !stopping ? startAddressWatch({ spawner, iface, log: log.monitor, ...clock, onTrigger: trigger, ...(options.hints ? { addresses: options.hints.addresses } : {}) }) : undefined;
      }
      const wantFirewalld = !stopping && wantsFirewalldWatch(config);
      if (wantFirewalld !== (firewalldWatch !== undefined)) {
        await firewalldWatch?.stop();
        firewalldWatch = wantFirewalld ? startFirewalldWatch({ spawner, log: log.monitor, ...clock, onTrigger: trigger }) : undefined;
      }
      if (schedule?.expression !== config.reconcile.schedule) {
        await schedule?.stop();
        schedule = stopping ? undefined : startSchedule(config.reconcile.schedule, () => trigger({ cause: 'schedule' }), log.schedule);
      }
    },
    needsSync: (config) => firewalldWatch === undefined && wantsFirewalldWatch(config),
    watchConfig(path) {
      if (!existsSync(dirname(path))) return;
      try {
        watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
          if (name !== null && name !== basename(path)) return;
          // An editor's write is several events: act once it has settled.
          clearTimeout(watchTimer);
          watchTimer = setTimeout(options.onConfigFile, 50);
        });
        watcher.on('error', (err) => log.daemon.warn({ err }, 'config watch failed: SIGHUP still reloads'));
      } catch (err) {
        log.daemon.warn({ err, path }, 'cannot watch the config file: SIGHUP still reloads');
      }
    },
    startWatchdog(periodMs) {
      watchdogTimer = setInterval(() => trigger({ cause: 'watchdog' }), periodMs);
    },
    monitorStatus: () => ({ enabled: monitor !== undefined, ...(monitor?.status() ?? { running: false, restarts: 0, lostEvents: 0 }) }),
    async stop() {
      watcher?.close();
      clearTimeout(watchTimer);
      clearInterval(watchdogTimer);
      await schedule?.stop();
      schedule = undefined;
      await monitor?.stop();
      monitor = undefined;
      await addressWatch?.stop();
      addressWatch = undefined;
      await firewalldWatch?.stop();
      firewalldWatch = undefined;
    },
  };
}
