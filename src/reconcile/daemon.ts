import type { LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { killStaleChildren } from '../exec/child-guard.js';
import type { ChildGuard } from '../exec/child-guard.js';
import { ExecError } from '../exec/errors.js';
import type { CommandRunner, ProcessSpawner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';
import type { NftReads } from '../backends/nftables/backend.js';
import type { NftSession } from '../backends/nftables/session.js';
import { createFailureLog } from '../log/failure-log.js';
import { rulesetFor } from '../profiles/load.js';
import { TokenBucket } from './bucket.js';
import { createActiveBackend } from './daemon-backend.js';
import { converge } from './converge.js';
import { ConfigKeeper } from './daemon-config.js';
import { createDiscoveredDesired } from './discovered.js';
import { createDaemonMetrics } from './daemon-metrics.js';
import { createIdleCollector } from './idle-gc.js';
import { FightLog } from './drift.js';
import { withLock } from './lock.js';
import { createPassLock } from './pass-lock.js';
import { createNotifier, watchdogMs } from './notify.js';
import { daemonLockoutProblem } from './lockout-check.js';
import { createReconciler } from './reconciler.js';
import type { PassSteps } from './converge.js';
import type { WatchHints } from './freshness.js';
import { createTriggerSources } from './daemon-triggers.js';
import type { SignalGate } from './signals.js';
import { claimDaemon } from './singleton.js';
import type { PassOutcome, Trigger } from './reconciler.js';
import { statusLine } from './state-format.js';
import type { DaemonState } from './state-format.js';
import { statePath, writeState } from './state.js';
import { clearConfigError, initialState, recordConfigError, recordPass, recordStop, withFacts } from './state-tracker.js';
import type { DaemonFacts } from './state-tracker.js';

/**
 * `tsfw daemon`: converge at start, then on every trigger (schedule, kernel events, SIGHUP, a
 * config file change), one pass at a time under the lock shared with the CLI. Writes state.json
 * (and, when configured, Prometheus metrics) after each pass and tells systemd. On SIGTERM/SIGINT
 * the rules stay (a firewall must not open up because its manager stopped) unless
 * `cleanupOnStop: true`.
 */

export interface DaemonOptions {
  /** Re-reads and validates the config (loadConfig with the daemon's -c / environment). */
  readonly load: () => LoadedConfig;
  readonly runner: CommandRunner & ProcessSpawner;
  readonly log: Logger;
  readonly runDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Follow config.log.level on reload (false when the level was forced by --verbose). */
  readonly followLogLevel?: boolean;
  /** SIGTERM/SIGINT/SIGHUP, installed by the caller before its first await (see signals.ts). */
  readonly signals?: SignalGate;
  /** How the runner tags its children: stale ones with this tag are killed once the claim is ours. */
  readonly guard?: ChildGuard;
  /** The host steps of each pass (cli/pass-steps.ts); absent: nothing outside the backend is touched. */
  readonly steps?: PassSteps;
  /** Told by the watchers what changed, so passes reuse probes they vouch for (freshness.ts). */
  readonly hints?: WatchHints;
  /** The long-running nft that reads an nftables backend's table (nftables/session.ts); ended at stop. */
  readonly nftSession?: NftSession;
}

/** A started daemon. */
export interface Daemon {
  /** Settles when the daemon has stopped (SIGTERM/SIGINT or `stop`). */
  readonly done: Promise<void>;
  /** SIGHUP: re-read the config and converge now. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** Errors that no retry can fix: missing binary, no kernel support, no privileges. */
function isFatal(error: unknown): boolean {
  return error instanceof ExecError && (error.kind === 'not-found' || error.kind === 'unsupported' || error.kind === 'permission');
}

/** Starts the daemon; resolves after the first pass (throws if that pass cannot ever work). */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { log, runner, env } = options;
  const children = ['daemon', 'reconciler', 'monitor', 'schedule', 'notify', 'metrics'].map((component) => log.child({ component }));
  const [dlog, rlog, mlog, slog, nlog, xlog] = children as [Logger, Logger, Logger, Logger, Logger, Logger];
  const keeper = new ConfigKeeper(options.load);
  const config = () => keeper.current().loaded.config;
  const startedAt = Date.now();
  const lockOptions = { runDir: options.runDir, onCompromised: (err: Error) => dlog.error({ err }, 'lock taken over while held') };

  dlog.info({ pid: process.pid, runDir: options.runDir }, 'daemon starting');
  // One daemon per namespace and run dir (singleton.ts): before anything is written or killed.
  const claim = await claimDaemon(options.runDir);
  const stale = options.guard ? killStaleChildren(options.guard.tag) : [];
  if (stale.length > 0) dlog.warn({ pids: stale }, 'killed children a previous daemon left behind');
  // The table's last reading is reused while the monitor vouches for it, unless metrics want
  // fresh packet counters.
  const nftReads: NftReads = {
    ...(options.nftSession ? { listTable: options.nftSession.listTable } : {}),
    ...(options.hints ? { fresh: options.hints.scopeTables } : {}),
    reuse: () => !metrics.enabled(),
  };
  const active = await createActiveBackend(config(), runner, dlog, { nftReads });
  const bucket = new TokenBucket(config().reconcile, Date.now());
  const fights = new FightLog(fightWindow(config()));
  const notifier = createNotifier({ runner, env, log: nlog, now: () => performance.now() });
  const stateFile = statePath(options.runDir);
  const metrics = createDaemonMetrics(xlog);
  const discovered = createDiscoveredDesired(runner, dlog, options.hints?.addresses);
  const collector = createIdleCollector(() => performance.now(), (globalThis as { gc?: () => void }).gc);
  const triggers = createTriggerSources({
    spawner: runner,
    trigger: (t: Trigger) => reconciler.trigger(t),
    onConfigFile: () => {
      if (keeper.changedOnDisk()) void reload('config', true);
    },
    log: { daemon: dlog, monitor: mlog, schedule: slog },
    ...(options.hints ? { hints: options.hints } : {}),
  });
  const stateFailures = createFailureLog(dlog, 'cannot write the state file', 'the state file is written again');
  let stopping: Promise<void> | undefined;
  // Set at the first stop request: nothing new is started from then on.
  let stopWanted = false;
  let stateFinal = false;
  let started = false;
  let reloadQueued = false;
  // Reloads run one at a time, and a stop waits for the one in flight.
  let reloads: Promise<void> = Promise.resolve();
  let settleStartup: () => void = () => undefined;
  const startupSettled = new Promise<void>((resolve) => {
    settleStartup = resolve;
  });
  let lastOutcome: PassOutcome | undefined;
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });

  const facts = (): DaemonFacts => ({
    pid: process.pid,
    startedAt,
    config: keeper.current().loaded.source.exists ? keeper.current().loaded.source.path : null,
    mode: config().mode,
    backend: active.backend.name,
    backendReason: active.choice.reason,
    evidence: active.choice.evidence,
    schedule: config().reconcile.schedule,
    monitor: triggers.monitorStatus(),
    backoff: reconciler.backoff(),
    bucket: bucket.snapshot(Date.now()),
  });

  const save = (next: DaemonState) => {
    // After the stop record nothing may say `running` again.
    if (stateFinal) return;
    state = next;
    try {
      writeState(stateFile, state);
      stateFailures.succeeded({ path: stateFile });
    } catch (err) {
      // Never fatal, never in the way of the next repair (a full run directory must not stop them).
      stateFailures.failed({ path: stateFile, problem: err instanceof Error ? err.message : String(err) });
    }
  };

  const reconciler = createReconciler({
    async target() {
      // The file may have changed a moment ago (`tsfw apply --mode` records the mode right after
      // converging): never undo an explicit apply because the watcher has not fired yet.
      if (keeper.changedOnDisk()) await reload('config', false);
      // ufw enabled (or firewalld started) after the daemon: `auto` follows, in this very pass.
      // A system bus that came up after the daemon: the firewalld watch starts now.
      if (await active.reconsider(config()) || triggers.needsSync(config())) await syncTriggers();
      await active.removeRetired();
      return { backend: active.backend, desired: await discovered.desired(config()) };
    },
    withLock: createPassLock(lockOptions, dlog),
    bucket,
    fights,
    now: () => Date.now(),
    timers: globalThis,
    log: rlog,
    inspect: () => metrics.enabled(),
    ...(options.steps ? { steps: options.steps } : {}),
    onPass(outcome) {
      lastOutcome = outcome;
      save(recordPass(state, outcome, facts(), Date.now()));
      metrics.record(outcome, state.backoff.active);
      if (outcome.result !== 'error') notifier.passed(statusLine(state));
      collector.afterPass();
    },
  });
  let state: DaemonState = initialState(facts(), Date.now());

  /** Queues a reload behind the one in flight. */
  function reload(cause: 'sighup' | 'config', trigger: boolean): Promise<void> {
    reloads = reloads.then(() => (stopWanted ? undefined : adoptReload(cause, trigger))).catch((err: unknown) => {
      dlog.error({ err }, 'config reload failed');
    });
    return reloads;
  }

  /** Re-reads the config; a bad one is rejected with every problem logged. */
  async function adoptReload(cause: 'sighup' | 'config', trigger: boolean): Promise<void> {
    const result = keeper.reload();
    const lockout = result.ok ? await daemonLockoutProblem(result.current.loaded.config, runner) : undefined;
    if (result.ok && lockout) keeper.revert(result.previous);
    if (!result.ok || lockout) {
      const problems = result.ok ? [lockout!] : result.problems;
      for (const problem of problems) dlog.error({ problem }, 'config reload rejected: keeping the last good config');
      save(recordConfigError(state, problems, Date.now()));
      return;
    }
    const next = result.current.loaded.config;
    await active.adopt(next);
    bucket.reconfigure(next.reconcile, Date.now());
    fights.setWindow(fightWindow(next));
    if (options.followLogLevel) for (const l of [log, ...children]) l.level = next.log.level;
    await syncTriggers();
    await metrics.configure(next.metrics);
    save(clearConfigError(withFacts(state, facts(), Date.now())));
    dlog.info({ cause, mode: next.mode, backend: active.backend.name }, 'config reloaded');
    if (trigger) reconciler.trigger({ cause });
  }

  /** Starts, restarts or stops the trigger sources to match the current config. */
  const syncTriggers = () => triggers.sync(config(), active.eventScope, stopWanted);

  const onReload = () => {
    if (stopWanted) return;
    if (!started) reloadQueued = true;
    else void reload('sighup', true);
  };
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) dlog.info({ signal }, 'already stopping: finishing the current write');
    else dlog.info({ signal }, 'stop requested');
    void stop();
  };

  /** Stops after the start-up step, pass and reload in flight; idempotent. */
  async function stop(): Promise<void> {
    stopWanted = true;
    stopping ??= (async () => {
      await startupSettled;
      await triggers.stop();
      await reconciler.stop();
      await reloads;
      if (config().cleanupOnStop) {
        try {
          const result = await withLock(lockOptions, () => converge(active.backend, rulesetFor(config(), 'off'), options.steps ?? {}));
          dlog.warn({ actions: result.actions.length }, 'cleanupOnStop: removed tsfw objects');
        } catch (err) {
          dlog.error({ err }, 'cleanupOnStop failed');
        }
      } else {
        dlog.info({}, 'stopping: rules stay in place (cleanupOnStop is false)');
      }
      save(recordStop(withFacts(state, facts(), Date.now()), Date.now()));
      stateFinal = true;
      await options.nftSession?.stop();
      await metrics.close();
      await notifier.stopping();
      await claim.release();
      markDone();
    })();
    return stopping;
  }

  const api: Daemon = { done, reload: () => reload('sighup', true), stop };
  // Signals that came during the steps above were queued by the gate; a stop from here on lets
  // the step in flight finish, skips the rest and exits 0.
  options.signals?.attach({ reload: onReload, stop: onStop });
  try {
    // Metrics before the first pass, so it is counted; events next, so a change during the first
    // pass is not missed; then the first pass.
    if (!stopWanted) await metrics.configure(config().metrics);
    if (!stopWanted) await syncTriggers();
    if (!stopWanted) {
      save(state);
      reconciler.trigger({ cause: 'startup' });
      await reconciler.idle();
    }
  } finally {
    settleStartup();
  }
  if (lastOutcome?.result === 'error' && isFatal(lastOutcome.error)) {
    await stop();
    throw lastOutcome.error;
  }
  started = true;
  if (stopWanted) return api;
  triggers.watchConfig(keeper.current().loaded.source.path);
  const wd = watchdogMs(env, process.pid);
  // Only successful passes feed the watchdog, so a pass runs at least twice per period.
  if (wd) triggers.startWatchdog(Math.max(500, wd / 2));
  dlog.info({ backend: active.backend.name, mode: config().mode, schedule: config().reconcile.schedule, events: triggers.monitorStatus().enabled }, 'daemon running');
  if (reloadQueued) void reload('sighup', true);
  return api;
}

/** What keeps changing is judged over the time the bucket needs to refill completely. */
function fightWindow(config: Config): number {
  return Math.max(60_000, (config.reconcile.burst / config.reconcile.refillPerMinute) * 60_000);
}
