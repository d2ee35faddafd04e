import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig } from './cli.js';
import { spawnTsfwDaemon, tableText } from './daemon.js';
import type { DaemonProcess } from './daemon.js';
import { createNetns } from './netns.js';
import type { Netns } from './netns.js';
import { Rng, runSeed, sequenceCount } from './reliability.js';

/**
 * Random signal schedules for a real daemon in a namespace (test/e2e/reliability-signals and
 * test/reliability/signals): signals at random moments of start-up, passes, reloads and
 * shutdown, single, doubled and mixed. Each run must exit 0 with no child left behind, and
 * `cleanupOnStop` must have removed tsfw's table. Three namespaces run in parallel.
 */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Step =
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'sleep'; readonly ms: number }
  | { readonly kind: 'ready' }
  | { readonly kind: 'tamper' }
  | { readonly kind: 'reload' };

export interface Schedule {
  readonly cleanupOnStop: boolean;
  readonly steps: readonly Step[];
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** A random schedule: a few things while it runs, one stop, perhaps more signals while it stops. */
export function makeSchedule(rng: Rng): Schedule {
  const steps: Step[] = [];
  const before = rng.int(5);
  for (let i = 0; i < before; i++) {
    const r = rng.int(10);
    if (r < 3) steps.push({ kind: 'sleep', ms: rng.int(250) });
    else if (r < 5) steps.push({ kind: 'signal', signal: 'SIGHUP' });
    else if (r < 7) steps.push({ kind: 'ready' });
    else if (r < 9) steps.push({ kind: 'tamper' });
    else steps.push({ kind: 'reload' });
  }
  if (rng.int(2)) steps.push({ kind: 'sleep', ms: rng.int(40) });
  steps.push({ kind: 'signal', signal: rng.pick(['SIGTERM', 'SIGINT'] as const) });
  // Doubles and mixes while it stops.
  const after = rng.int(3);
  for (let i = 0; i < after; i++) {
    if (rng.int(2)) steps.push({ kind: 'sleep', ms: rng.int(30) });
    steps.push({ kind: 'signal', signal: rng.pick(SIGNALS) });
  }
  return { cleanupOnStop: rng.int(4) === 0, steps };
}

function describeSchedule(s: Schedule): string {
  const steps = s.steps.map((st) => (st.kind === 'signal' ? st.signal.slice(3) : st.kind === 'sleep' ? `${st.ms}ms` : st.kind));
  return `${s.cleanupOnStop ? 'cleanupOnStop ' : ''}${steps.join(' ')}`;
}

/** Pids still inside the namespace (the daemon's children run there). */
export async function pidsIn(ns: Netns): Promise<string[]> {
  const r = await execa('ip', ['netns', 'pids', ns.name], { reject: false });
  return String(r.stdout).split('\n').filter(Boolean);
}

/** The processes in the namespace with their parents. */
export async function processTree(ns: Netns): Promise<{ pid: number; ppid: number; args: string }[]> {
  const pids = await pidsIn(ns);
  if (pids.length === 0) return [];
  const { stdout } = await execa('ps', ['-o', 'pid=,ppid=,args=', '-p', pids.join(',')], { reject: false });
  return String(stdout).split('\n').filter(Boolean).map((line) => {
    const [pid, ppid, ...args] = line.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), args: args.join(' ') };
  });
}

/** Waits until the daemon's `nft -j monitor` child runs; returns the namespace's processes. */
export async function withMonitorChild(ns: Netns, daemonPid: number) {
  // Both long-running children of the default config: nft monitor, and ip monitor (addresses: auto).
  const started = (procs: { ppid: number; args: string }[]) =>
    ['nft monitor', 'monitor address'].every((what) => procs.some((p) => p.ppid === daemonPid && p.args.includes(what)));
  let procs = await processTree(ns);
  for (let t = 0; t < 500 && !started(procs); t++) {
    await sleep(10);
    procs = await processTree(ns);
  }
  return procs;
}

/** Whether the first stop signal came during start-up (before 'daemon running'). */
export async function runSchedule(ns: Netns, schedule: Schedule): Promise<{ stopDuringStartup: boolean }> {
  await ns.sh('nft flush ruleset');
  const mode = { value: 'on' as 'on' | 'nodivert' };
  const cfg = tempConfig({ backend: 'nftables', cleanupOnStop: schedule.cleanupOnStop, reconcile: { schedule: '0 0 0 1 1 *' } });
  // The bundled build (what production runs), for its shorter start-up.
  const daemon: DaemonProcess = spawnTsfwDaemon(ns, cfg.path, { TSFW_NO_BUNDLE: '0' });
  try {
    // Listening starts before the first log line; Node's own start before it is out of reach.
    await daemon.waitFor('the first log line', () => daemon.logs.length > 0, 20_000);
    let stopSent = false;
    let stopDuringStartup = false;
    for (const step of schedule.steps) {
      if (step.kind === 'signal') {
        if (!stopSent && step.signal !== 'SIGHUP') stopDuringStartup = !daemon.logs.some((l) => l.msg === 'daemon running');
        daemon.signal(step.signal);
        stopSent ||= step.signal !== 'SIGHUP';
      } else if (step.kind === 'sleep') await sleep(step.ms);
      else if (stopSent) continue;
      else if (step.kind === 'ready') await daemon.waitFor('ready', () => daemon.state()?.ready, 20_000);
      else if (step.kind === 'tamper') await ns.sh('nft flush chain inet tsfw ts-input 2>/dev/null; true');
      else {
        mode.value = mode.value === 'on' ? 'nodivert' : 'on';
        cfg.write({ backend: 'nftables', mode: mode.value, cleanupOnStop: schedule.cleanupOnStop, reconcile: { schedule: '0 0 0 1 1 *' } });
        daemon.signal('SIGHUP');
      }
    }
    const code = await Promise.race([daemon.exited, sleep(30_000).then(() => 'hung')]);
    const context = `${describeSchedule(schedule)}\n${daemon.raw.join('\n')}\n${daemon.logs.slice(-12).map((l) => JSON.stringify(l)).join('\n')}`;
    expect(code, context).toBe(0);
    // No child outlives the daemon: the namespace is empty the moment it has exited.
    expect(await pidsIn(ns), context).toEqual([]);
    const state = daemon.state();
    if (state) expect(state.running, context).toBe(false);
    if (schedule.cleanupOnStop) expect(await tableText(ns), context).toBe('<absent>');
    return { stopDuringStartup };
  } finally {
    await daemon.stop();
    cfg.remove();
  }
}

/** Runs `count` schedules from `rng`, one namespace each at a time; throws naming the seed. */
export async function runSchedules(namespaces: readonly Netns[], rng: Rng, count: number): Promise<{ ms: number; duringStartup: number }> {
  const schedules = Array.from({ length: count }, () => makeSchedule(rng));
  const started = performance.now();
  let next = 0;
  let duringStartup = 0;
  try {
    await Promise.all(namespaces.map(async (ns) => {
      while (next < schedules.length) if ((await runSchedule(ns, schedules[next++]!)).stopDuringStartup) duringStartup += 1;
    }));
  } catch (error) {
    throw new Error(`TSFW_SEED=${rng.seed}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { ms: performance.now() - started, duringStartup };
}

/** The whole property as a vitest suite: `fallback` schedules unless TSFW_RELIABILITY_SEQUENCES says otherwise. */
export function signalScheduleSuite(title: string, fallback: number, timeoutMs: number): void {
  describe(title, () => {
    const namespaces: Netns[] = [];
    const seed = runSeed();
    beforeAll(async () => {
      namespaces.push(...(await Promise.all([1, 2, 3].map(() => createNetns('tsfwsig')))));
    });
    afterAll(async () => {
      await Promise.all(namespaces.map((ns) => ns.destroy()));
    });

    const count = sequenceCount(fallback);
    it(`${count} schedules (TERM, INT, HUP, doubles, during start-up, passes, reloads, shutdown) all exit 0 and leave no child (seed ${seed})`, async () => {
      const { ms, duringStartup } = await runSchedules(namespaces, new Rng(seed), count);
      process.stdout.write(`signals: seed ${seed}: ${count} schedules (${duringStartup} stopped during start-up) in ${(ms / 1000).toFixed(1)} s, all exited 0, no child left\n`);
    }, timeoutMs);
  });
}
