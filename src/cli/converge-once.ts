import { removeLeftovers, withLeftovers } from '../backends/leftovers.js';
import { readLastBackend, recordLastBackend } from '../backends/last-backend.js';
import type { BackendChoice } from '../backends/select.js';
import type { Backend } from '../backends/types.js';
import { certainManagerDrops, dropWarning } from '../doctor/manager-drops.js';
import { converge } from '../reconcile/converge.js';
import type { ConvergeResult } from '../reconcile/converge.js';
import { runDirFrom } from '../reconcile/lock.js';
import type { CommandContext } from './context.js';
import { desiredFor } from './desired.js';
import { lockForWrite } from './lock.js';
import { passSteps } from './pass-steps.js';

/**
 * The write path apply and reconcile share: take the lock, remove tsfw's leftovers from other
 * backends when this namespace may have switched backend, converge the active one.
 */
export async function convergeOnce(
  ctx: CommandContext,
  backend: Backend,
  choice: BackendChoice,
  options: { dryRun?: boolean } = {},
): Promise<ConvergeResult> {
  const dryRun = options.dryRun ?? false;
  if (!dryRun) await lockForWrite();
  const runDir = runDirFrom(process.env);
  const mayHaveSwitched = readLastBackend(runDir) !== choice.backend;
  const leftovers = mayHaveSwitched ? await removeLeftovers(choice.backend, ctx.config, ctx.runner, { dryRun }) : [];
  ctx.log.debug({ mayHaveSwitched, leftovers: leftovers.map((c) => `${c.backend}:${c.status}`) }, 'leftover check');
  // The table's read and discovery's reads (`ip -j addr`) do not depend on each other.
  const observed = backend.observesWithoutDesired ? backend.observe() : undefined;
  observed?.catch(() => undefined); // awaited by converge; a failure is reported there
  const ruleset = (await desiredFor(ctx)).ruleset;
  const converged = withLeftovers(await converge(backend, ruleset, { dryRun, ...(observed ? { observed } : {}), ...passSteps(runDir, ctx.runner, ctx.log) }), leftovers);
  // What doctor would fail on: another manager certainly dropping what tsfw accepts (one line).
  const warning = dropWarning(await certainManagerDrops({ config: ctx.config, ruleset, backend: choice.backend, runner: ctx.runner }));
  const result = warning ? { ...converged, warnings: [...converged.warnings, warning] } : converged;
  // A failed leftover check (not a skipped one: no binary means nothing to remove) runs again next
  // time. An unchanged backend is already recorded: a converged pass writes nothing.
  if (!dryRun && mayHaveSwitched && leftovers.every((c) => c.status !== 'failed')) recordLastBackend(runDir, choice.backend);
  return result;
}
