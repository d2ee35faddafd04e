import type { ConcreteBackend, Config } from '../config/schema.js';
import { ExecError } from '../exec/errors.js';
import type { CommandRunner } from '../exec/runner.js';
import { desiredRuleset } from '../model/desired.js';
import { FAMILIES } from '../model/types.js';
import type { ConvergeResult } from '../reconcile/converge.js';
import { backendSpec, buildBackend, familiesPresent } from './factory.js';
import type { BackendSpec } from './factory.js';
import type { Backend, DriftItem, PlannedAction, ProcessWrite } from './types.js';
import { actionsOf } from './transaction.js';

/**
 * Removing tsfw's objects from backends other than the active one: `cleanup --all-backends`, and
 * the cheap check apply/reconcile run so that switching backend leaves nothing behind in the one
 * that was left. Every backend is handled on its own; a missing binary is a note, not an error.
 */

export const ALL_BACKENDS = ['nftables', 'iptables-nft', 'iptables-legacy'] as const satisfies readonly ConcreteBackend[];

export interface BackendCleanup {
  readonly backend: ConcreteBackend;
  readonly status: 'removed' | 'clean' | 'skipped' | 'failed';
  readonly note?: string;
  readonly actions: readonly PlannedAction[];
  /** The exact process calls the removal made (or, in a dry run, would make). */
  readonly writes: readonly ProcessWrite[];
  readonly drift: readonly DriftItem[];
  readonly warnings: readonly string[];
}

export interface CleanupOptions {
  readonly dryRun?: boolean;
  readonly exists?: (path: string) => boolean;
  readonly procNet?: string;
}

/** A backend that may hold tsfw's objects, for cleaning: every family it can see, not just the configured ones. */
function cleanerFor(name: ConcreteBackend, config: Config, runner: CommandRunner, opts: CleanupOptions): Backend | string {
  const families = familiesPresent(name, opts);
  if (families.length === 0) return `${opts.procNet ?? '/proc/net'}/ip_tables_names absent: x_tables not loaded, nothing to remove`;
  return buildBackend(backendSpec(name, config, { families }), runner);
}

/** Converges each named backend to mode off; failures are reported per backend, never thrown. */
export async function cleanupBackends(
  names: readonly ConcreteBackend[],
  config: Config,
  runner: CommandRunner,
  opts: CleanupOptions = {},
): Promise<BackendCleanup[]> {
  const out: BackendCleanup[] = [];
  for (const name of names) {
    const backend = cleanerFor(name, config, runner, opts);
    out.push(typeof backend === 'string'
      ? { backend: name, actions: [], writes: [], drift: [], warnings: [], status: 'skipped', note: backend }
      : await cleanBackend(backend, name, runner, opts));
  }
  return out;
}

/**
 * Removes the objects of settings the daemon has just left (another backend, a dropped family,
 * another nft table): the same cleanup as a CLI backend switch, for exactly what was retired.
 */
export function removeRetired(retired: BackendSpec, runner: CommandRunner, opts: CleanupOptions = {}): Promise<BackendCleanup> {
  return cleanBackend(buildBackend(retired, runner), retired.name, runner, opts);
}

async function cleanBackend(backend: Backend, name: ConcreteBackend, runner: CommandRunner, opts: CleanupOptions): Promise<BackendCleanup> {
  const empty = { backend: name, actions: [], writes: [], drift: [], warnings: [] };
  try {
    // nft's observe treats a missing binary as "nothing there"; ask first so the note says why.
    if (name === 'nftables') await runner.run('nft', ['--version']);
    const off = desiredRuleset('off', FAMILIES, []);
    const state = await backend.observe(off);
    if (isUnavailable(state)) return { ...empty, status: 'skipped', note: `${name}: binaries not installed` };
    const plan = backend.plan(off, state);
    if (plan.ops.length > 0 && !opts.dryRun) await backend.apply(plan);
    const writes = backend.writes(plan);
    return { backend: name, status: plan.ops.length > 0 ? 'removed' : 'clean', actions: actionsOf(plan.ops), writes, drift: plan.drift, warnings: plan.warnings };
  } catch (error) {
    if (error instanceof ExecError && error.kind === 'not-found') return { ...empty, status: 'skipped', note: `${name}: ${error.stderr || 'not installed'}` };
    return { ...empty, status: 'failed', note: `${name}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function isUnavailable(state: unknown): boolean {
  const families = (state as { families?: readonly { unavailable?: boolean }[] }).families;
  return Array.isArray(families) && families.length > 0 && families.every((f) => f.unavailable);
}

/**
 * The leftover check of apply and reconcile: tsfw's objects in every backend other than the
 * active one are removed (a backend switch leaves nothing behind). Costs one read per backend.
 */
export function removeLeftovers(active: ConcreteBackend, config: Config, runner: CommandRunner, opts: CleanupOptions = {}): Promise<BackendCleanup[]> {
  return cleanupBackends(ALL_BACKENDS.filter((b) => b !== active), config, runner, opts);
}

/**
 * Folds a leftover cleanup into the active backend's result: anything removed elsewhere counts
 * as a change, its actions are tagged with the backend, failures become warnings.
 */
export function withLeftovers(result: ConvergeResult, cleanups: readonly BackendCleanup[]): ConvergeResult {
  const removed = cleanups.filter((c) => c.status === 'removed');
  const tag = (c: BackendCleanup) => (a: PlannedAction): PlannedAction => ({ ...a, reason: `[${c.backend}] leftover: ${a.reason}` });
  return {
    ...result,
    changed: result.changed || removed.length > 0,
    actions: [...removed.flatMap((c) => c.actions.map(tag(c))), ...result.actions],
    writes: [...removed.flatMap((c) => c.writes), ...result.writes],
    drift: [...removed.flatMap((c) => c.drift.map((d) => ({ ...d, detail: `[${c.backend}] ${d.detail}` }))), ...result.drift],
    warnings: [
      ...result.warnings,
      ...cleanups.flatMap((c) => c.warnings.map((w) => `[${c.backend}] ${w}`)),
      ...cleanups.filter((c) => c.status === 'failed').map((c) => `leftover check failed: ${c.note ?? c.backend}`),
    ],
  };
}
