import { existsSync } from 'node:fs';
import type { ConcreteBackend, Config } from '../config/schema.js';
import { ExecError } from '../exec/errors.js';
import type { CommandRunner } from '../exec/runner.js';
import { desiredRuleset } from '../model/desired.js';
import { FAMILIES } from '../model/types.js';
import type { ConvergeResult } from '../reconcile/converge.js';
import { createIptablesBackend } from './iptables/backend.js';
import { createNftablesBackend } from './nftables/backend.js';
import type { Backend, DriftItem, PlannedAction } from './types.js';

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
  if (name === 'nftables') {
    return createNftablesBackend(runner, { table: config.nftables.table, priorities: config.nftables.priorities }) as Backend;
  }
  const exists = opts.exists ?? existsSync;
  const procNet = opts.procNet ?? '/proc/net';
  const families = name === 'iptables-legacy'
    ? FAMILIES.filter((f) => exists(`${procNet}/${f === 'ip' ? 'ip' : 'ip6'}_tables_names`))
    : [...FAMILIES];
  if (families.length === 0) return `${procNet}/ip_tables_names absent: x_tables not loaded, nothing to remove`;
  return createIptablesBackend(runner, {
    flavour: name === 'iptables-nft' ? 'nft' : 'legacy',
    families,
    jumpPosition: config.jumpPosition,
  }) as Backend;
}

/** Converges each named backend to mode off; failures are reported per backend, never thrown. */
export async function cleanupBackends(
  names: readonly ConcreteBackend[],
  config: Config,
  runner: CommandRunner,
  opts: CleanupOptions = {},
): Promise<BackendCleanup[]> {
  const off = desiredRuleset('off', FAMILIES, []);
  const out: BackendCleanup[] = [];
  for (const name of names) {
    const empty = { backend: name, actions: [], drift: [], warnings: [] };
    const backend = cleanerFor(name, config, runner, opts);
    if (typeof backend === 'string') {
      out.push({ ...empty, status: 'skipped', note: backend });
      continue;
    }
    try {
      // nft's observe treats a missing binary as "nothing there"; ask first so the note says why.
      if (name === 'nftables') await runner.run('nft', ['--version']);
      const state = await backend.observe();
      if (isUnavailable(state)) {
        out.push({ ...empty, status: 'skipped', note: `${name}: binaries not installed` });
        continue;
      }
      const plan = backend.plan(off, state);
      if (plan.actions.length > 0 && !opts.dryRun) await backend.apply(plan);
      out.push({ backend: name, status: plan.actions.length > 0 ? 'removed' : 'clean', actions: plan.actions, drift: plan.drift, warnings: plan.warnings });
    } catch (error) {
      if (error instanceof ExecError && error.kind === 'not-found') {
        out.push({ ...empty, status: 'skipped', note: `${name}: ${error.stderr || 'not installed'}` });
      } else {
        out.push({ ...empty, status: 'failed', note: `${name}: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
  }
  return out;
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
    drift: [...removed.flatMap((c) => c.drift.map((d) => ({ ...d, detail: `[${c.backend}] ${d.detail}` }))), ...result.drift],
    warnings: [
      ...result.warnings,
      ...cleanups.flatMap((c) => c.warnings.map((w) => `[${c.backend}] ${w}`)),
      ...cleanups.filter((c) => c.status === 'failed').map((c) => `leftover check failed: ${c.note ?? c.backend}`),
    ],
  };
}
