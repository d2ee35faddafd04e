import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { TSFW_BIN } from '../helpers/cli.js';
import { poll } from '../helpers/systemd-host.js';

/**
 * `tsfw reload` (the unit's ExecReload=) and `tsfw health` (the image's HEALTHCHECK) as commands,
 * from the built CLI. Neither touches a firewall, so no namespace is needed; the daemon-facing
 * paths run under a real systemd in systemd-unit.test.ts and in the image in image.test.ts.
 */

const cli = (args: readonly string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [TSFW_BIN, ...args], { reject: false, env: { LC_ALL: 'C', TSFW_CONFIG: '', ...env } });

describe('tsfw reload and tsfw health', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-health-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reload --pid sends SIGHUP to that process', async () => {
    const child = execa(process.execPath, ['-e', 'process.on("SIGHUP", () => { console.log("hup"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1000);'], { reject: false });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += String(d);
    });
    await poll('the child to install its handler', 10_000, () => (out.includes('ready') ? true : undefined));
    const r = await cli(['reload', '--pid', String(child.pid)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const ended = await child;
    expect(ended.exitCode).toBe(0);
    expect(out).toContain('hup');
  });

  it('reload refuses a bad pid (64) and names a missing process (1), one line each', async () => {
    const bad = await cli(['reload', '--pid', 'abc']);
    expect(bad.exitCode).toBe(64);
    const missing = await cli(['reload', '--pid', '4194304']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim()).toBe('tsfw: reload: no process 4194304');
  });

  it('health: 1 without a state file, 0 for a fresh pass of a live daemon, 1 when that pass is old', async () => {
    const env = { TSFW_RUN_DIR: dir };
    const none = await cli(['health'], env);
    expect([none.exitCode, none.stdout.trim()]).toEqual([1, 'UNHEALTHY: no daemon state file: the daemon has not started']);
    const state = (at: number) => JSON.stringify({
      version: 1, pid: process.pid, running: true, ready: true, startedAt: new Date(at).toISOString(), updatedAt: new Date(at).toISOString(),
      lastPass: { at: new Date(at).toISOString(), cause: 'schedule', result: 'quiet', durationMs: 2 },
    });
    writeFileSync(join(dir, 'state.json'), state(Date.now()));
    const fresh = await cli(['health'], env);
    expect(fresh.exitCode, fresh.stdout).toBe(0);
    expect(fresh.stdout).toMatch(/^healthy: last pass \d+ s ago \(schedule, quiet\)$/m);
    writeFileSync(join(dir, 'state.json'), state(Date.now() - 300_000));
    const old = await cli(['health', '--max-age', '60'], env);
    expect(old.exitCode).toBe(1);
    expect(old.stdout).toMatch(/^UNHEALTHY: last pass 30\d s ago, more than 60 s: the daemon is stuck$/m);
    expect((await cli(['health', '--max-age', '0'], env)).exitCode).toBe(64);
  });
});
