import type { Backend, ObjectStatus, Plan } from '../backends/types.js';
import type { Logger } from '../log/logger.js';
import type { Ruleset } from '../model/types.js';
import type { TokenBucket } from './bucket.js';
import type { Timers } from './coalesce.js';
import { converge, ConvergenceError } from './converge.js';
import { ExecError } from '../exec/errors.js';
import type { ConvergeResult, PassSteps } from './converge.js';
import { driftDetails, driftObjects } from './drift.js';
import type { FightLog } from './drift.js';
import { isAdminCause } from './causes.js';
import type { PassCause } from './causes.js';
import type { BackoffState, PassResult } from './state-format.js';

/**
 * The pass loop: one pass at a time (load desired from the current good config → converge under
 * the shared lock); triggers that arrive during a pass queue at most one follow-up, so a storm of
 * events costs at most two passes. Repairs of drift someone else caused spend tokens; when the
 * bucket is empty the reconciler backs off (says so once, with what keeps changing) instead of
 * fighting in a hot loop, and tries again when a token is back.
 */

/** Why a pass is wanted; `detail` is e.g. the first monitor event of a burst. */
export interface Trigger {
  readonly cause: PassCause;
  readonly detail?: string;
  /** The program whose committed transaction caused this trigger, e.g. `firewalld[812]`. */
  readonly by?: string;
}

/** What a pass converges to, from the current good config. */
export interface PassTarget {
  readonly backend: Backend;
  readonly desired: Ruleset;
}

/** The outcome of one pass, for state.json and systemd notification. */
export interface PassOutcome {
  readonly trigger: Trigger;
  /** Wall-clock ms when the pass started. */
  readonly at: number;
  readonly result: PassResult;
  readonly durationMs: number;
  readonly converge?: ConvergeResult;
  readonly error?: unknown;
  /** Owned objects and their kernel counters as this pass last read them; only when `inspect` asked. */
  readonly objects?: readonly ObjectStatus[];
}

export interface ReconcilerDeps {
  /** Backend and desired ruleset of the current good config; called holding the lock. */
  readonly target: () => PassTarget | Promise<PassTarget>;
  /** Runs `fn` holding the lock shared with the CLI. */
  readonly withLock: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly bucket: TokenBucket;
  readonly fights: FightLog;
  /** Wall-clock milliseconds (Date.now). */
  readonly now: () => number;
  readonly timers: Timers;
  readonly log: Logger;
  readonly onPass?: (outcome: PassOutcome) => void;
  /**
   * Whether passes should report `objects` (metrics enabled): read from the state the pass
   * observed anyway, so counters cost no extra observe.
   */
  readonly inspect?: () => boolean;
  /** The host steps of each pass (sysctls, integrations); absent in tests on fakes: nothing outside the backend is touched. */
  readonly steps?: PassSteps;
}


/** The reconciler's public face. */
export interface Reconciler {
  /** Runs a pass now, or queues one follow-up if a pass is running. */
  trigger(trigger: Trigger): void;
  /** Resolves once no pass is running or queued. */
  idle(): Promise<void>;
  /** Runs no further passes; waits for the current one. */
  stop(): Promise<void>;
  /** Backoff as shown in state.json. */
  backoff(): BackoffState;
}

/** Builds the pass loop. */
export function createReconciler(deps: ReconcilerDeps): Reconciler {
  let running: Promise<void> | undefined;
  let pending: Trigger | undefined;
  let stopped = false;
  let backoffTimer: unknown;
  let backoff: { since: number; until: number; held: number } | undefined;
  let episodes = 0;

  const mergeInto = (queued: Trigger | undefined, next: Trigger): Trigger => {
    if (!queued) return next;
    // An admin trigger (reload) wins: the follow-up pass must use the new config anyway.
    return !isAdminCause(queued.cause) && isAdminCause(next.cause) ? next : queued;
  };

  const loop = async (first: Trigger) => {
    let next: Trigger | undefined = first;
    while (next && !stopped) {
      const current: Trigger = next;
      pending = undefined;
      await pass(current);
      next = pending;
    }
    running = undefined;
  };

  const pass = async (trigger: Trigger) => {
    const at = deps.now();
    const started = performance.now();
    let outcome: PassOutcome;
    let objects: { objects?: readonly ObjectStatus[] } = {};
    try {
      const result = await deps.withLock(async () => {
        const { backend, desired } = await deps.target();
        // Only an object undone again right after tsfw restored it spends the budget: bursts are
        // free. Decided once per pass, so a retried write does not pay twice.
        let allowed: boolean | undefined;
        const mayWrite = (plan: Plan) => allowed ??= isAdminCause(trigger.cause)
          || !deps.fights.isReundo(deps.now(), driftObjects(plan.drift))
          || deps.bucket.take(deps.now());
        const onObserved = deps.inspect?.() ? (state: unknown) => {
          objects = { objects: backend.inspect(desired, state) };
        } : undefined;
        return convergeRetryingRaces(() => converge(backend, desired, { mayWrite, ...(onObserved ? { onObserved } : {}), ...deps.steps }), trigger);
      });
      if (result.changed && !result.held) deps.fights.markRestored(deps.now(), driftObjects(result.drift));
      const kind: PassResult = !result.changed ? 'quiet' : result.held ? 'held' : 'repaired';
      outcome = { trigger, at, result: kind, durationMs: ms(started), converge: result, ...objects };
      report(outcome, result);
    } catch (error) {
      outcome = { trigger, at, result: 'error', durationMs: ms(started), error, ...objects };
      deps.log.error({ cause: trigger.cause, detail: trigger.detail, err: error }, 'reconcile pass failed');
    }
    deps.onPass?.(outcome);
  };

  /** Another writer changed the kernel between our read and write: read again and retry at once. */
  const convergeRetryingRaces = async (run: () => Promise<ConvergeResult>, trigger: Trigger): Promise<ConvergeResult> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (attempt >= RACE_RETRIES || !isRace(error)) throw error;
        deps.log.debug({ cause: trigger.cause, attempt, err: error }, 'state changed underneath a write: retrying');
      }
    }
  };

  const report = (outcome: PassOutcome, result: ConvergeResult) => {
    const { trigger } = outcome;
    const base = { cause: trigger.cause, ...(trigger.detail ? { detail: trigger.detail } : {}) };
    if (outcome.result === 'quiet') {
      deps.log.debug({ ...base, durationMs: outcome.durationMs }, 'reconcile pass: nothing to do');
      if (backoff) {
        deps.log.info({ heldPasses: backoff.held }, 'drift is gone: backoff ended');
        backoff = undefined;
      }
      return;
    }
    const objects = driftObjects(result.drift);
    if (outcome.result === 'held') {
      enterBackoff(objects);
      return;
    }
    // Only drift someone else caused counts as a fight; start-up and reloads are the admin's.
    if (!isAdminCause(trigger.cause)) deps.fights.record(outcome.at, objects, trigger.by);
    deps.log.warn({
      ...base,
      drift: driftDetails(result.drift),
      actions: result.actions.map((a) => `${a.op} ${[a.family, a.table, a.chain].filter(Boolean).join(' ')}`),
      durationMs: outcome.durationMs,
    }, 'netfilter drift repaired');
    if (backoff) {
      deps.log.info({ heldPasses: backoff.held, backedOffMs: deps.now() - backoff.since }, 'repair budget refilled: repairing again');
      backoff = undefined;
    }
  };

  const enterBackoff = (objects: readonly string[]) => {
    const now = deps.now();
    if (backoff) {
      backoff.held += 1;
      deps.log.debug({ objects }, 'drift left in place: backing off');
      return;
    }
    episodes += 1;
    backoff = { since: now, until: deps.bucket.nextTokenAt(now), held: 1 };
    deps.log.warn({
      objects: deps.fights.counts(now),
      writers: deps.fights.writers(now),
      drift: objects,
      retryAt: new Date(backoff.until).toISOString(),
      budget: deps.bucket.snapshot(now),
    }, 'repairs keep being undone: backing off');
    if (backoffTimer !== undefined) deps.timers.clearTimeout(backoffTimer);
    backoffTimer = deps.timers.setTimeout(() => {
      backoffTimer = undefined;
      api.trigger({ cause: 'backoff-end' });
    }, Math.max(0, backoff.until - now));
  };

  const api: Reconciler = {
    trigger(trigger) {
      if (stopped) return;
      if (running) {
        pending = mergeInto(pending, trigger);
        return;
      }
      running = loop(trigger);
    },
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      if (backoffTimer !== undefined) deps.timers.clearTimeout(backoffTimer);
      await api.idle();
    },
    backoff() {
      const now = deps.now();
      return {
        active: backoff !== undefined,
        ...(backoff ? { since: new Date(backoff.since).toISOString(), until: new Date(backoff.until).toISOString() } : {}),
        heldPasses: backoff?.held ?? 0,
        episodes,
        objects: deps.fights.counts(now),
        writers: deps.fights.writers(now),
      };
    },
  };
  return api;
}

/** Attempts of one pass when another writer keeps racing it; beyond that the pass fails. */
const RACE_RETRIES = 3;

function isRace(error: unknown): boolean {
  return error instanceof ConvergenceError || (error instanceof ExecError && error.kind === 'raced');
}

function ms(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
