import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TSFW_BIN, tempConfig, tsfw } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { cliEnv, configOf, isConverged, startTsfwDaemon, tableText } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/** Kills, races, reloads and fights: the lock, one transaction per write, and the anti-fight budget. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until no process is left in the namespace (an nft child may outlive a killed tsfw). */
async function waitEmpty(ns: Netns): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const r = await execa('ip', ['netns', 'pids', ns.name], { reject: false });
    if (!String(r.stdout).trim()) return;
    await sleep(10);
  }
  throw new Error(`processes still running in ${ns.name}`);
}

describe('tsfw daemon and CLI under kills, races, reloads and fights', () => {
  let ns: Netns;
  let reference: Netns;
  let cleanOn: string;
  let cfg: TempConfig | undefined;
  let daemon: DaemonProcess | undefined;
  let runDir: string | undefined;

  beforeAll(async () => {
    [ns, reference] = await Promise.all([createNetns('tsfwk'), createNetns('tsfwref')]);
    // The state of one clean apply, in a namespace of its own.
    const ref = tempConfig({ backend: 'nftables' });
    const dir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
    expect((await tsfw(reference, ['apply', '-c', ref.path], cliEnv(dir))).exitCode).toBe(0);
    cleanOn = await tableText(reference);
    expect(cleanOn).toContain('chain tsfw-filter-input');
    ref.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
    daemon = undefined;
    cfg?.remove();
    cfg = undefined;
    if (runDir) rmSync(runDir, { recursive: true, force: true });
    runDir = undefined;
    await ns.sh('nft flush ruleset');
  });
  afterAll(async () => {
    await Promise.all([ns?.destroy(), reference?.destroy()]);
  });

  it('25 applies killed with SIGKILL at random moments leave no table or the complete one, and the lock is recovered', async () => {
    cfg = tempConfig({ backend: 'nftables' });
    runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
    const env = { LC_ALL: 'C', TSFW_CONFIG: '', TSFW_MODE: '', TSFW_BACKEND: '', ...cliEnv(runDir) };
    // How long an apply takes here and now (most of it is Node start-up; the write comes last).
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      await ns.sh('nft delete table inet tsfw 2>/dev/null; true');
      const started = performance.now();
      expect((await tsfw(ns, ['apply', '-c', cfg.path], cliEnv(runDir))).exitCode).toBe(0);
      times.push(performance.now() - started);
    }
    const fullMs = Math.max(...times);
    const seen = { absent: 0, complete: 0, lockLeft: 0 };
    for (let i = 0; i < 25; i++) {
      await ns.sh('nft delete table inet tsfw 2>/dev/null; true');
      const child = execa('ip', ['netns', 'exec', ns.name, process.execPath, TSFW_BIN, 'apply', '-c', cfg.path], { env, reject: false });
      // Random moments over the whole run, half of them in its last third, where the write is.
      await sleep(fullMs * (i % 2 ? Math.random() * 1.1 : 0.66 + Math.random() * 0.44));
      child.kill('SIGKILL');
      await child;
      await waitEmpty(ns);
      if (existsSync(join(runDir, 'lock'))) seen.lockLeft += 1;
      const text = await tableText(ns);
      if (text === '<absent>') seen.absent += 1;
      else {
        expect(text, `kill ${i}: a partial table`).toBe(cleanOn);
        seen.complete += 1;
      }
    }
    console.log(`25 SIGKILLed applies (a clean apply takes ${fullMs.toFixed(0)} ms): ${seen.absent} left no table, ${seen.complete} the complete one; ${seen.lockLeft} left the lock behind`);
    // Whatever the kills left behind (a lock included), the next apply goes through at once.
    const t = performance.now();
    const after = await tsfw(ns, ['apply', '-c', cfg.path], cliEnv(runDir));
    expect(after.exitCode, after.stderr).toBe(0);
    expect(performance.now() - t).toBeLessThan(fullMs + 3_000);
    expect(await tableText(ns)).toBe(cleanOn);
  }, 180_000);

  it.each([
    ['repairing from events', { watch: true }],
    ['on a 1 s schedule, without events', { watch: false, schedule: '* * * * * *' }],
  ] as const)('two dozen parallel tsfw apply / reconcile runs beside a running daemon (%s) converge to exactly one clean apply, with one writer', async (_name, reconcile) => {
    cfg = tempConfig({ backend: 'nftables', reconcile });
    daemon = await startTsfwDaemon(ns, cfg.path);
    await sleep(200);
    await ns.sh('nft flush ruleset');
    const repairsBefore = daemon.state()!.repairs.total;
    const runs = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      tsfw<ConvergeReport>(ns, [i % 2 ? 'apply' : 'reconcile', '-c', cfg!.path, '--json'], cliEnv(daemon!.runDir))));
    for (const r of runs) expect(r.exitCode, r.stderr).toBe(0);
    await sleep(500);
    expect(await tableText(ns)).toBe(cleanOn);
    // The lock let exactly one of the 25 writers (24 CLI runs and the daemon) repair the flush.
    const cliWrites = runs.filter((r) => r.json?.changed).length;
    const daemonWrites = daemon.state()!.repairs.total - repairsBefore;
    console.log(`parallel runs: ${cliWrites} CLI run(s) and ${daemonWrites} daemon pass(es) wrote`);
    expect(cliWrites + daemonWrites).toBe(1);
    expect(daemon.logs.filter((l) => l.msg === 'reconcile pass failed')).toEqual([]);
  }, 120_000);

  it('SIGHUP with a broken config keeps the last good one, logs every problem, changes nothing; a good one and apply --mode are adopted', async () => {
    cfg = tempConfig({ backend: 'nftables', reconcile: { schedule: '0 0 0 1 1 *' } });
    daemon = await startTsfwDaemon(ns, cfg.path);
    const before = await tableText(ns);
    writeFileSync(cfg.path, 'backend: nftables\nmode: nodivert\ncgnat:\n  range: not-a-cidr\nbogus: 1\n');
    daemon.signal('SIGHUP');
    const rejected = await daemon.waitFor('the rejection', () => {
      const lines = daemon!.logs.filter((l) => l.msg === 'config reload rejected: keeping the last good config');
      return lines.length >= 2 && lines;
    });
    const problems = rejected.map((l) => String(l.problem));
    expect(problems.some((p) => p.includes('cgnat.range'))).toBe(true);
    expect(problems.some((p) => p.includes('bogus: unknown key'))).toBe(true);
    await sleep(300);
    // Still running (signal 0 only checks the pid), on the last good config.
    expect(() => process.kill(daemon!.pid, 0)).not.toThrow();
    expect(daemon.state()).toMatchObject({ running: true, mode: 'on', lastConfigError: { problems: expect.arrayContaining([expect.stringContaining('cgnat.range')]) } });
    expect(await tableText(ns)).toBe(before);
    // Still repairing, to the last good config (mode on, not the nodivert of the broken file).
    await ns.sh('nft delete chain inet tsfw tsfw-filter-input');
    await daemon.waitFor('the repair', () => daemon!.state()!.repairs.byCause.event === 1);
    expect(await tableText(ns)).toBe(before);
    // status reads the daemon's state.json; the broken file itself cannot be loaded, so name a good one.
    const good = tempConfig({ backend: 'nftables' });
    const shown = await tsfw(ns, ['status', '-c', good.path], cliEnv(daemon.runDir));
    good.remove();
    expect(shown.stdout, shown.stderr).toContain('config reload REJECTED');
    // A good config (mode nodivert) is adopted on SIGHUP: the divert base chains go.
    writeFileSync(cfg.path, 'backend: nftables\nmode: nodivert\nreconcile:\n  schedule: "0 0 0 1 1 *"\n');
    daemon.signal('SIGHUP');
    await daemon.waitFor('mode nodivert', () => daemon!.state()!.mode === 'nodivert' && !daemon!.state()!.lastConfigError);
    await daemon.waitFor('nodivert converged', () => daemon!.state()!.lastPass?.cause === 'sighup');
    expect(await isConverged(ns, configOf('backend: nftables\nmode: nodivert'))).toBe(true);
    // `tsfw apply --mode on` records the mode; the daemon follows it instead of undoing it.
    const repairs = daemon.state()!.repairs.total;
    const apply = await tsfw(ns, ['apply', '--mode', 'on', '-c', cfg.path], cliEnv(daemon.runDir));
    expect(apply.exitCode, apply.stderr).toBe(0);
    await daemon.waitFor('mode on adopted', () => daemon!.state()!.mode === 'on');
    await sleep(500);
    expect(await tableText(ns)).toBe(cleanOn);
    expect(daemon.state()!.repairs.total).toBe(repairs);
  }, 60_000);

  it('a tamper loop that keeps undoing tsfw leads to backoff in state.json, status and logs, not a hot loop', async () => {
    // One token every 10 s: the backoff outlasts the checks below by a wide margin, even on a loaded CI.
    cfg = tempConfig({ backend: 'nftables', reconcile: { schedule: '0 0 0 1 1 *', burst: 3, refillPerMinute: 6 } });
    daemon = await startTsfwDaemon(ns, cfg.path);
    const started = performance.now();
    let tampers = 0;
    while (performance.now() - started < 3_000) {
      await ns.sh('nft flush chain inet tsfw ts-input');
      tampers += 1;
      await sleep(30);
    }
    const elapsed = performance.now() - started;
    await sleep(300);
    const state = daemon.state()!;
    // The first repair of ts-input is free (not a fight yet); each re-undo within 5 s of a repair
    // spends one of 3 tokens, one more every 10 s.
    expect(state.repairs.byCause.event ?? 0).toBeLessThanOrEqual(1 + 3 + Math.floor(elapsed / 10_000));
    expect(state.repairs.byCause.event ?? 0).toBeGreaterThanOrEqual(1 + 3);
    expect(state.backoff).toMatchObject({ active: true, episodes: 1 });
    expect(state.backoff.heldPasses).toBeGreaterThan(0);
    expect(state.backoff.objects[0]).toMatchObject({ object: 'inet tsfw chain ts-input' });
    expect(state.backoff.objects[0]!.count).toBeGreaterThanOrEqual(3);
    // Event passes only: at most one per tamper plus a follow-up each, never a spin.
    expect(state.passes.total).toBeLessThanOrEqual(2 * tampers + 3);
    const backoffLines = daemon.logs.filter((l) => l.msg === 'repairs keep being undone: backing off');
    expect(backoffLines).toHaveLength(1);
    expect(backoffLines[0]).toMatchObject({ objects: [expect.objectContaining({ object: 'inet tsfw chain ts-input' })], retryAt: expect.any(String) });
    // nft monitor named the program that keeps undoing tsfw.
    expect(backoffLines[0]!.writers).toEqual(['nft']);
    const status = await tsfw(ns, ['status', '-c', cfg.path], cliEnv(daemon.runDir));
    expect(status.stdout).toMatch(/BACKING OFF since .*: repairs keep being undone \(inet tsfw chain ts-input ×\d+\) by nft;/);
    const json = await tsfw<{ daemon: { backoff: { active: boolean } } }>(ns, ['status', '-c', cfg.path, '--json'], cliEnv(daemon.runDir));
    expect(json.json?.daemon.backoff.active).toBe(true);
    console.log(`anti-fight: ${tampers} tampers in ${elapsed.toFixed(0)} ms → ${state.repairs.byCause.event} repairs, ${state.backoff.heldPasses} held passes, ${state.passes.total} passes`);
    // Once the other program stops, the next token repairs and the backoff ends.
    await daemon.waitFor('the backoff to end', () => daemon!.state()!.backoff.active === false, 20_000);
    expect(await tableText(ns)).toBe(cleanOn);
  }, 60_000);
});
