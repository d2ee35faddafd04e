import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfw } from '../helpers/cli.js';
import { cliEnv, spawnTsfwDaemon, startTsfwDaemon } from '../helpers/daemon.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { pidsIn, sleep, withMonitorChild } from '../helpers/signal-schedules.js';

/**
 * SIGKILLed daemons leave no orphan once the next daemon has started, and one daemon per
 * network namespace and run dir. (Random signal schedules: reliability-signals.test.ts.)
 */

describe('tsfw daemon under signals', () => {
  const namespaces: Netns[] = [];

  beforeAll(async () => {
    namespaces.push(...(await Promise.all([createNetns('tsfwsig'), createNetns('tsfwsig')])));
  });
  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => ns.destroy()));
  });

  it('15 SIGKILLs of the daemon leave no orphan once the next daemon has started', async () => {
    const ns = namespaces[0]!;
    await ns.sh('nft flush ruleset');
    const cfg = tempConfig({ backend: 'nftables', reconcile: { schedule: '0 0 0 1 1 *' } });
    const runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
    try {
      let orphansRightAfter = 0;
      for (let i = 0; i < 15; i++) {
        const daemon = await startTsfwDaemon(ns, cfg.path, {}, { runDir });
        // The monitor child runs before the kill.
        expect((await withMonitorChild(ns, daemon.pid)).some((p) => p.ppid === daemon.pid)).toBe(true);
        daemon.signal('SIGKILL');
        expect(await daemon.exited).toBeUndefined();
        // The kernel kills the children with their parent (pdeathsig); give it a moment.
        let left = await pidsIn(ns);
        for (let t = 0; t < 100 && left.length > 0; t++) {
          await sleep(10);
          left = await pidsIn(ns);
        }
        orphansRightAfter += left.length;
      }
      // Whatever was left, the next daemon kills it: then the namespace holds that daemon and
      // its own children (the nft and ip monitors, and the nft session that reads its table) only.
      const last = await startTsfwDaemon(ns, cfg.path, {}, { runDir });
      const procs = await withMonitorChild(ns, last.pid);
      console.log(`15 SIGKILLs: ${orphansRightAfter} children outlived their daemon by a second; after the next start:\n${procs.map((p) => `${p.pid} ${p.ppid} ${p.args}`).join('\n')}`);
      expect(orphansRightAfter).toBe(0);
      expect(procs.filter((p) => p.pid !== last.pid && p.ppid !== last.pid)).toEqual([]);
      expect(procs.filter((p) => p.ppid === last.pid).map((p) => p.args).sort()).toEqual(['ip -o monitor address', 'nft -j -i', 'nft monitor']);
      expect(await last.stop()).toBe(0);
      expect(await pidsIn(ns)).toEqual([]);
    } finally {
      cfg.remove();
      rmSync(runDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('a second daemon in the same namespace and run dir exits 1 naming the first one\'s pid, and status still says running', async () => {
    const ns = namespaces[1]!;
    await ns.sh('nft flush ruleset');
    const cfg = tempConfig({ backend: 'nftables', reconcile: { schedule: '0 0 0 1 1 *' } });
    const runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
    try {
      const first = await startTsfwDaemon(ns, cfg.path, {}, { runDir });
      for (const dir of [runDir, mkdtempSync(join(tmpdir(), 'tsfw-run-'))]) {
        const second = spawnTsfwDaemon(ns, cfg.path, {}, { runDir: dir });
        expect(await second.exited).toBe(1);
        expect(second.raw.join('\n')).toContain(`another tsfw daemon (pid ${first.pid}) is already running in this network namespace`);
        if (dir !== runDir) {
          expect(existsSync(join(dir, 'state.json'))).toBe(false);
          rmSync(dir, { recursive: true, force: true });
        }
      }
      const status = await tsfw(ns, ['status', '-c', cfg.path], cliEnv(runDir));
      expect(status.stdout, status.stderr).not.toMatch(/stopped/i);
      expect(first.state()).toMatchObject({ running: true, pid: first.pid });
      // The first one's child is untouched and the first one still repairs.
      await ns.sh('nft delete chain inet tsfw tsfw-filter-input');
      await first.waitFor('the repair', () => first.state()!.repairs.byCause.event === 1);
      expect(await first.stop()).toBe(0);
    } finally {
      cfg.remove();
      rmSync(runDir, { recursive: true, force: true });
    }
  }, 60_000);
});
