import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

/**
 * The unit's hardening, as systemd itself scores it. `--offline=yes` reads the file only, so this
 * runs without systemd as init (containers, CI). Skipped only when systemd-analyze is missing.
 */
const UNIT = fileURLToPath(new URL('../../systemd/tsfw.service', import.meta.url));
const analyze = await execa('systemd-analyze', ['--version'], { reject: false });
const available = analyze.exitCode === 0;

describe('systemd/tsfw.service', () => {
  it.skipIf(!available)(`has an exposure of 2.0 or less in systemd-analyze security --offline=yes${available ? '' : ' (SKIPPED: systemd-analyze is not installed)'}`, async () => {
    const r = await execa('systemd-analyze', ['security', '--offline=yes', UNIT], { reject: false, env: { LC_ALL: 'C', SYSTEMD_COLORS: '0' } });
    const match = /Overall exposure level for tsfw\.service: (\d+(?:\.\d+)?)/.exec(`${r.stdout}\n${r.stderr}`);
    expect(match, `no exposure line in:\n${r.stdout}\n${r.stderr}`).not.toBeNull();
    const exposure = Number(match![1]);
    console.log(`systemd-analyze security --offline=yes systemd/tsfw.service: exposure ${exposure}`);
    expect(exposure).toBeLessThanOrEqual(2.0);
  });

  it('is a notify service that reloads with SIGHUP, restarts on failure within a start limit and has a watchdog', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(UNIT, 'utf8');
    const keys = (name: string) => [...text.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1]);
    expect(keys('Type')).toEqual(['notify']);
    expect(keys('ExecStart')).toEqual(['/usr/local/bin/tsfw daemon']);
    // No /bin/kill: minimal systems lack procps (test/e2e/systemd-unit.test.ts runs it without).
    expect(keys('ExecReload')).toEqual(['/usr/local/bin/tsfw reload --pid $MAINPID']);
    expect(keys('Restart')).toEqual(['on-failure']);
    expect(keys('StartLimitBurst')).toEqual(['5']);
    expect(keys('StartLimitIntervalSec')).toEqual(['5min']);
    expect(keys('WatchdogSec')[0]).toMatch(/^\d+s$/);
    expect(keys('After').join(' ')).toMatch(/network-pre\.target.*nftables\.service.*firewalld\.service/);
    expect(keys('CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN CAP_NET_RAW']);
    expect(keys('ProtectSystem')).toEqual(['strict']);
    // Directories systemd creates when missing: a fresh host has no /etc/tsfw.
    expect(keys('ReadWritePaths')).toEqual(['-/run/xtables.lock']);
    expect(keys('ConfigurationDirectory')).toEqual(['tsfw']);
    expect(keys('RuntimeDirectory')).toEqual(['tsfw']);
  });

  it("gives the daemon the image's memory settings (NODE_OPTIONS, GLIBC_TUNABLES), and the image's health check runs without NODE_OPTIONS", async () => {
    const { readFileSync } = await import('node:fs');
    const unit = readFileSync(UNIT, 'utf8');
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const unitEnv = [...unit.matchAll(/^Environment="?([A-Z_]+)=(.+?)"?$/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(unitEnv).NODE_OPTIONS).toMatch(/^--max-semi-space-size=\d+ --jitless --expose-gc$/);
    expect(Object.fromEntries(unitEnv).GLIBC_TUNABLES).toMatch(/^glibc\.malloc\./);
    expect([...dockerfile.matchAll(/^ENV (NODE_OPTIONS|GLIBC_TUNABLES)=(.+)$/gm)].map((m) => [m[1], m[2]!.replace(/^"(.*)"$/, '$1')])).toEqual(unitEnv);
    // Any V8 flag makes node reject the bundle's code cache: the short health check goes without.
    expect(/^HEALTHCHECK .* CMD (.+)$/m.exec(dockerfile)?.[1]).toBe('["env", "-u", "NODE_OPTIONS", "tsfw", "health"]');
  });
});
