import { mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTsfwDaemon, tableText } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * The daemon meets hostile files: a config path that becomes a FIFO, /dev/zero, a directory, a
 * 50 MB file or an empty file keeps the last good config and repairs go on; a run directory that
 * is full (a 64 KB tmpfs mounted in the daemon's own private mount namespace, never the host's
 * /run) does not stop repairs either.
 */

const GOOD = 'backend: nftables\nmode: on\ncgnat:\n  mode: return\nreconcile:\n  schedule: "*/1 * * * * *"\n';

/** Deletes the input base chain and returns how long the daemon took to put it back (ms). */
async function repairTime(ns: Netns): Promise<number> {
  await ns.exec('nft', ['delete', 'chain', 'inet', 'tsfw', 'tsfw-filter-input']);
  const started = performance.now();
  for (;;) {
    const r = await ns.exec('nft', ['list', 'chain', 'inet', 'tsfw', 'tsfw-filter-input'], { reject: false });
    if (r.exitCode === 0) return performance.now() - started;
    if (performance.now() - started > 10_000) throw new Error('base chain not repaired within 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the daemon among hostile files', () => {
  let ns: Netns;
  let dir: string;
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    ns = await createNetns('tsfwh');
  });
  afterEach(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
    daemon = undefined;
    rmSync(dir, { recursive: true, force: true });
    await ns.sh('nft flush ruleset');
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  it('a 64 KB run directory that is full: a deleted base chain is still repaired within 1 s', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsfw-full-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, GOOD);
    const runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
    // A private mount namespace of the daemon's own: the tmpfs is invisible to the host.
    const wrap = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=64k,mode=0755 tsfw-test '${runDir}' && exec "$@"`, 'sh'];
    daemon = await startTsfwDaemon(ns, config, {}, { wrap, runDir });
    const d = daemon;
    // Fill it from inside the daemon's mount namespace.
    const fill = await execa('nsenter', ['-t', String(d.pid), '-m', '--', 'dd', 'if=/dev/zero', `of=${runDir}/fill`, 'bs=4k'], { reject: false });
    expect(fill.stderr).toMatch(/No space left on device/);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(await repairTime(ns));
    console.log(`full 64 KB run dir: base chain repaired in ${times.map((t) => Math.round(t)).join(', ')} ms`);
    expect(Math.max(...times), `repair times ${times.map(Math.round).join(', ')} ms`).toBeLessThan(1_000);
    await d.waitFor('the state-file warning', () => d.logs.find((l) => l.msg === 'cannot write the state file'));
    expect(d.logs.filter((l) => l.msg === 'cannot write the state file').length).toBe(1);
    expect(d.logs.filter((l) => l.level === 50)).toEqual([]);
    rmSync(runDir, { recursive: true, force: true });
  });

  it('a FIFO, /dev/zero, a directory, a 50 MB file or an empty file at the config path: the last good config stays and repairs go on', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsfw-hostile-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, GOOD);
    daemon = await startTsfwDaemon(ns, config);
    const d = daemon;
    const before = await tableText(ns);
    expect(before).toContain('return');
    const put = (make: (tmp: string) => void) => {
      const tmp = join(dir, `next-${Math.random().toString(36).slice(2)}`);
      make(tmp);
      rmSync(config, { recursive: true, force: true });
      renameSync(tmp, config);
    };
    const cases: { name: string; make: (tmp: string) => void; problem: RegExp }[] = [
      { name: 'a FIFO', make: (tmp) => void execaSync('mkfifo', [tmp]), problem: /not a regular file \(a FIFO\)/ },
      { name: '/dev/zero', make: (tmp) => symlinkSync('/dev/zero', tmp), problem: /not a regular file \(a character device\)/ },
      { name: 'a directory', make: (tmp) => mkdirSync(tmp), problem: /not a regular file \(a directory\)/ },
      { name: 'a 50 MB file', make: (tmp) => { writeFileSync(tmp, GOOD); truncateSync(tmp, 50 * 1024 * 1024); }, problem: /too large/ },
      { name: 'an empty file', make: (tmp) => writeFileSync(tmp, ''), problem: /the file is empty: keeping the last good config/ },
    ];
    for (const c of cases) {
      const seen = d.logs.length;
      put(c.make);
      d.signal('SIGHUP');
      const line = await d.waitFor(`the rejection of ${c.name}`, () => d.logs.slice(seen).find((l) => l.msg === 'config reload rejected: keeping the last good config'));
      expect(String(line.problem), c.name).toMatch(c.problem);
      expect(String(line.problem), c.name).toContain(config);
      const ms = await repairTime(ns);
      console.log(`config path is ${c.name}: reload rejected, base chain repaired in ${Math.round(ms)} ms`);
      expect(ms, c.name).toBeLessThan(1_000);
      expect(await tableText(ns), c.name).toBe(before);
    }
    // Content again (cgnat.mode back to its default, drop): adopted. (`{}` as "the defaults" is
    // covered by src/reconcile/daemon-config.test.ts; here it would also switch the backend to auto.)
    const seen = d.logs.length;
    put((tmp) => writeFileSync(tmp, GOOD.replace('  mode: return\n', '  mode: drop\n')));
    d.signal('SIGHUP');
    await d.waitFor('the reload of a good file', () => d.logs.slice(seen).find((l) => l.msg === 'config reloaded'));
    for (let i = 0; (await tableText(ns)) === before; i++) {
      if (i > 500) throw new Error('the defaults were not applied after {}');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(d.logs.filter((l) => l.level === 50 && l.msg !== 'config reload rejected: keeping the last good config')).toEqual([]);
  });
});
