import type { CommandRunner } from '../../exec/runner.js';
import type { Integration, IntegrationChange, IntegrationItem, IntegrationOutcome } from '../types.js';
import { busctlBus } from './bus.js';
import type { FirewalldBus } from './bus.js';
import { builtinDefaults, change, firewalldRunning, observeZones, presentItems } from './observe.js';
import { fromRecorded, itemKey, planEnsure, planUndo, toRecorded, wantedItems } from './plan.js';
import type { FirewalldItem, FirewalldPlan } from './plan.js';

/**
 * firewalld as an integration: observe over D-Bus, plan (plan.ts, pure), then one D-Bus call per
 * change. A failed call stops the pass; what was done so far is recorded, the rest is retried next pass.
 */

function changeOf(op: 'add' | 'remove', item: FirewalldItem): IntegrationChange {
  return { manager: 'firewalld', op, ...toRecorded(item) };
}

/** Runs the plan's ops in order; after a failure, the record says what tsfw owns at that point. */
async function run(bus: FirewalldBus, plan: FirewalldPlan, recorded: readonly FirewalldItem[], dryRun: boolean): Promise<IntegrationOutcome> {
  const changes = plan.ops.map((o) => changeOf(o.op, o.item));
  if (dryRun) return { record: plan.record.map(toRecorded), changes };
  const done = new Set<string>();
  try {
    for (const { op, item } of plan.ops) {
      await change(bus, op, item);
      done.add(`${op} ${itemKey(item)}`);
    }
  } catch (error) {
    // A zone-defaults note alone changed nothing in firewalld.
    if (![...done].some((d) => !d.includes(' zone-defaults '))) throw error;
    // Kept: what was recorded and not yet removed, and what is planned and already added.
    const keep = new Map<string, FirewalldItem>();
    for (const i of recorded) if (!done.has(`remove ${itemKey(i)}`)) keep.set(itemKey(i), i);
    for (const i of plan.record) {
      const pendingAdd = plan.ops.some((o) => o.op === 'add' && itemKey(o.item) === itemKey(i)) && !done.has(`add ${itemKey(i)}`);
      if (!pendingAdd) keep.set(itemKey(i), i);
    }
    return { record: [...keep.values()].map(toRecorded), changes: plan.ops.filter((o) => done.has(`${o.op} ${itemKey(o.item)}`)).map((o) => changeOf(o.op, o.item)) };
  }
  return { record: plan.record.map(toRecorded), changes };
}

function parseRecord(recorded: readonly IntegrationItem[]): FirewalldItem[] {
  return recorded.flatMap((r) => fromRecorded(r) ?? []);
}

/** The firewalld integration, talking to firewalld through `bus` (default: busctl via `runner`). */
export function createFirewalldIntegration(runner: CommandRunner, bus: FirewalldBus = busctlBus(runner)): Integration {
  return {
    manager: 'firewalld',
    active: () => firewalldRunning(bus),
    async ensure(wants, recordedItems, dryRun) {
      const recorded = parseRecord(recordedItems);
      const wanted = wantedItems(wants, await observeZones(bus, runner, wants.tunnel));
      const present = await presentItems(bus, [...wanted, ...recorded]);
      const plan = planEnsure(wanted, recorded, present);
      // Only a permanent addition needs to know which zones are still built-in defaults.
      const touched = plan.ops.filter((o) => o.op === 'add' && o.item.layer === 'permanent').map((o) => o.item.zone);
      const final = touched.length > 0 ? planEnsure(wanted, recorded, present, { builtinDefaults: await builtinDefaults(bus, touched) }) : plan;
      return run(bus, final, recorded, dryRun);
    },
    async undo(recordedItems, dryRun) {
      const recorded = parseRecord(recordedItems);
      // firewalld stopped: nothing can be removed now, and its permanent configuration keeps
      // tsfw's items for its next start; they stay recorded until it answers again.
      if (!(await firewalldRunning(bus))) return { record: recordedItems, changes: [] };
      return run(bus, planUndo(recorded, await presentItems(bus, recorded)), recorded, dryRun);
    },
  };
}
