import type { BucketSnapshot } from './bucket.js';
import { driftDetails, driftObjects } from './drift.js';
import type { PassOutcome } from './reconciler.js';
import type { BackoffState, DaemonState } from './state-format.js';

/**
 * Folds pass outcomes into the DaemonState written to state.json. Pure: every input, including
 * the time, is passed in.
 */

/** What the daemon knows about itself besides pass outcomes. */
export interface DaemonFacts {
  readonly pid: number;
  readonly startedAt: number;
  readonly config: string | null;
  readonly mode: string;
  readonly backend: string;
  /** Why the daemon uses this backend, and the evidence (`tsfw status` shows these, not a fresh guess). */
  readonly backendReason: string;
  readonly evidence: readonly string[];
  readonly schedule: string;
  readonly monitor: DaemonState['monitor'];
  readonly backoff: BackoffState;
  readonly bucket: BucketSnapshot;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The state before any pass. */
export function initialState(facts: DaemonFacts, now: number): DaemonState {
  return {
    version: 1,
    pid: facts.pid,
    running: true,
    ready: false,
    startedAt: iso(facts.startedAt),
    updatedAt: iso(now),
    config: facts.config,
    mode: facts.mode,
    backend: facts.backend,
    backendReason: facts.backendReason,
    evidence: facts.evidence,
    schedule: facts.schedule,
    repairs: { total: 0, byCause: {}, byObject: {} },
    passes: { total: 0, errors: 0 },
    backoff: facts.backoff,
    bucket: facts.bucket,
    monitor: facts.monitor,
  };
}

/** Refreshes the facts (config reload, monitor restarts, backoff) without a pass. */
export function withFacts(state: DaemonState, facts: DaemonFacts, now: number): DaemonState {
  return {
    ...state,
    updatedAt: iso(now),
    config: facts.config,
    mode: facts.mode,
    backend: facts.backend,
    backendReason: facts.backendReason,
    evidence: facts.evidence,
    schedule: facts.schedule,
    monitor: facts.monitor,
    backoff: facts.backoff,
    bucket: facts.bucket,
  };
}

/** Records one pass. */
export function recordPass(state: DaemonState, outcome: PassOutcome, facts: DaemonFacts, now: number): DaemonState {
  const { trigger } = outcome;
  const detail = trigger.detail ? { detail: trigger.detail } : {};
  const error = outcome.error === undefined ? {} : { error: errorText(outcome.error) };
  let next: DaemonState = {
    ...withFacts(state, facts, now),
    ready: state.ready || outcome.result !== 'error',
    lastPass: { at: iso(outcome.at), cause: trigger.cause, ...detail, result: outcome.result, durationMs: outcome.durationMs, ...error },
    passes: { total: state.passes.total + 1, errors: state.passes.errors + (outcome.result === 'error' ? 1 : 0) },
  };
  const result = outcome.converge;
  if (outcome.result === 'repaired' && result) {
    const byObject = { ...state.repairs.byObject };
    for (const object of driftObjects(result.drift)) byObject[object] = (byObject[object] ?? 0) + 1;
    next = {
      ...next,
      lastRepair: {
        at: iso(outcome.at),
        cause: trigger.cause,
        ...detail,
        drift: driftDetails(result.drift),
        actions: result.actions.map((a) => `${a.op} ${[a.family, a.table, a.chain].filter(Boolean).join(' ')}`),
        durationMs: outcome.durationMs,
      },
      repairs: {
        total: state.repairs.total + 1,
        byCause: { ...state.repairs.byCause, [trigger.cause]: (state.repairs.byCause[trigger.cause] ?? 0) + 1 },
        byObject,
      },
    };
  }
  return next;
}

/** Records a rejected config reload (the daemon keeps running on the last good one). */
export function recordConfigError(state: DaemonState, problems: readonly string[], now: number): DaemonState {
  return { ...state, updatedAt: iso(now), lastConfigError: { at: iso(now), problems } };
}

/** Clears a previous config error after a good reload. */
export function clearConfigError(state: DaemonState): DaemonState {
  const { lastConfigError: _gone, ...rest } = state;
  return rest;
}

/** The daemon has stopped. */
export function recordStop(state: DaemonState, now: number): DaemonState {
  return { ...state, running: false, updatedAt: iso(now), stoppedAt: iso(now) };
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? message;
}
