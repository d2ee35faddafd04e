import type { Backend, DriftItem, Plan, PlannedAction, ProcessWrite } from '../backends/types.js';
import type { Piece } from '../backends/transaction.js';
import { actionsOf } from '../backends/transaction.js';
import type { Mode, Ruleset } from '../model/types.js';
import { ExecError } from '../exec/errors.js';
import type { IntegrationChange } from '../integrations/types.js';
import type { SysctlChange, SysctlOutcome } from '../sysctl/plan.js';

/** The outcome of one convergence pass: the shape of `--json` output. */
export interface ConvergeResult {
  readonly changed: boolean;
  readonly dryRun: boolean;
  readonly mode: Mode;
  readonly backend: string;
  readonly actions: readonly PlannedAction[];
  /** The exact process calls the plan's write makes (a dry run: would make), in order. */
  readonly writes: readonly ProcessWrite[];
  readonly drift: readonly DriftItem[];
  /** Kernel settings the pass changed (a dry run: would change), e.g. src_valid_mark for connmark. */
  readonly sysctls: readonly SysctlChange[];
  /** Changes to other firewall managers (firewalld, ufw, Docker) the pass made (a dry run: would make). */
  readonly integrations: readonly IntegrationChange[];
  readonly warnings: readonly string[];
  readonly durationMs: number;
  /** Set when `mayWrite` refused a write: the drift is real but was left in place. */
  readonly held?: boolean;
}

/** Thrown when the state read back after a write still differs: another writer raced us. */
export class ConvergenceError extends Error {
  readonly kind = 'not-converged';
  constructor(readonly remaining: readonly DriftItem[]) {
    super(`state still differs after apply: ${remaining.map((d) => d.detail).slice(0, 3).join('; ')}`);
    this.name = 'ConvergenceError';
  }
}

/**
 * The host steps after the backend's write, built in one place (cli/pass-steps.ts) and handed
 * through the CLI, the daemon and the reconciler unchanged; each absent one touches nothing.
 */
export interface PassSteps {
  /** Brings the kernel settings the ruleset needs in line (sysctl/host.ts). */
  readonly sysctls?: (desired: Ruleset, dryRun: boolean) => SysctlOutcome;
  /** Brings the other firewall managers in line (integrations/step.ts). */
  readonly integrations?: (desired: Ruleset, dryRun: boolean) => Promise<readonly IntegrationChange[]>;
}

export interface ConvergeOptions<S = unknown> extends PassSteps {
  readonly dryRun?: boolean;
  /** Milliseconds since some epoch; injected so tests control time. */
  readonly now?: () => number;
  /** A read of the backend already under way (started before `desired` was known); default: observe now. */
  readonly observed?: Promise<S>;
  /** Asked once before writing a non-empty plan; false leaves the drift in place (anti-fight). */
  readonly mayWrite?: (plan: Plan) => boolean;
  /**
   * Receives the last state the pass read (after the write when there was one), so callers such as
   * the daemon's metrics can read counters without observing a second time.
   */
  readonly onObserved?: (state: S) => void;
}

/**
 * desired → observe → plan → one transaction → observe again. Writes nothing when nothing
 * differs; a dry run stops after planning.
 */
export async function converge<S, P extends Piece>(
  backend: Backend<S, P>,
  desired: Ruleset,
  options: ConvergeOptions<S> = {},
): Promise<ConvergeResult> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const observed = await (options.observed ?? backend.observe(desired));
  const plan = backend.plan(desired, observed);
  const changed = plan.ops.length > 0;
  const held = changed && !options.dryRun && options.mayWrite !== undefined && !options.mayWrite(plan);
  if (changed && !options.dryRun && !held) {
    await applyOrRace(backend, desired, plan);
    const again = await backend.observe(desired);
    options.onObserved?.(again);
    const after = backend.plan(desired, again);
    if (after.ops.length > 0) throw new ConvergenceError(after.drift);
  } else {
    options.onObserved?.(observed);
  }
  const sysctls = options.sysctls?.(desired, options.dryRun ?? false).changes ?? [];
  const integrations = (await options.integrations?.(desired, options.dryRun ?? false)) ?? [];
  return {
    changed: changed || sysctls.length > 0 || integrations.length > 0,
    dryRun: options.dryRun ?? false,
    mode: desired.mode,
    backend: backend.name,
    actions: actionsOf(plan.ops),
    writes: changed ? backend.writes(plan) : [],
    drift: plan.drift,
    sysctls,
    integrations,
    warnings: plan.warnings,
    durationMs: Math.round((now() - started) * 10) / 10,
    ...(held ? { held } : {}),
  };
}

/**
 * Writes the plan. A write the kernel refused after another program changed what the plan was
 * read from (e.g. a base chain deleted, then re-added at another priority in a second step: our
 * `add chain` now fails with "Operation not supported") is a race, whatever nft said: the state
 * read again plans different ops or shows different drift. It is thrown as kind `raced`, which
 * the reconciler retries at once; a write that fails on an unchanged state keeps its own error.
 */
async function applyOrRace<S, P extends Piece>(backend: Backend<S, P>, desired: Ruleset, plan: Plan<P>): Promise<void> {
  try {
    await backend.apply(plan);
  } catch (error) {
    if (error instanceof ExecError && error.kind === 'raced') throw error;
    let moved = false;
    try {
      const again = backend.plan(desired, await backend.observe(desired));
      moved = JSON.stringify([again.ops, again.drift]) !== JSON.stringify([plan.ops, plan.drift]);
    } catch {
      // The state cannot be read again: keep the write's own error.
    }
    if (!moved) throw error;
    const e = error instanceof ExecError ? error : undefined;
    throw new ExecError('raced', e?.command ?? backend.name, e?.exitCode, e?.stderr ?? (error instanceof Error ? error.message : String(error)), { cause: error });
  }
}
