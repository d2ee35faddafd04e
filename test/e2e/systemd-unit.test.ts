import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSystemdHost, packTsfw, poll, systemdRoot } from '../helpers/systemd-host.js';
import type { SystemdHost } from '../helpers/systemd-host.js';

/**
 * systemd/tsfw.service under a real systemd 252 (Debian 12) booted as PID 1 in private
 * namespaces (test/helpers/systemd-host.ts), on a fresh host: tsfw from `npm pack` + `npm install
 * -g`, the unit copied from the installed package as docs/install.md says, and no /etc/tsfw.
 * The steps run in order on one booted host, each starting from what the previous one left.
 */

const UNIT = 'tsfw.service';
const INSTALLED_UNIT = '/usr/local/lib/node_modules/tsfw/systemd/tsfw.service';

interface LogLine {
  readonly msg?: string;
  readonly cause?: string;
}

describe('systemd/tsfw.service under a real systemd (PID 1 in private namespaces)', { timeout: 120_000 }, () => {
  let host: SystemdHost;
  let work: string;
  let table = '';

  /** tsfw's own JSON log lines in the journal. */
  const daemonLog = async (): Promise<LogLine[]> => {
    const out = await host.sh(`journalctl -b -u ${UNIT} -o cat --no-pager`);
    return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  };
  const pid1Journal = async (): Promise<string> => host.sh('journalctl -b _PID=1 -o cat --no-pager');
  const listTable = async () => host.run('nft', ['-s', 'list', 'table', 'inet', 'tsfw']);

  beforeAll(async () => {
    const root = await systemdRoot();
    work = mkdtempSync(join(tmpdir(), 'tsfw-systemd-pack-'));
    host = await bootSystemdHost(root, await packTsfw(work));
  }, 900_000);

  afterAll(async () => {
    await host?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('starts on a fresh host with no /etc/tsfw: active within 15 s, StatusText set, no notification refused, NRestarts 0', async () => {
    expect((await host.run('test', ['-e', '/etc/tsfw'])).exitCode, '/etc/tsfw must not exist before the start').not.toBe(0);
    await host.sh(`install -m 644 ${INSTALLED_UNIT} /etc/systemd/system/${UNIT} && systemctl daemon-reload`);
    const started = Date.now();
    const enable = await host.run('systemctl', ['enable', '--now', UNIT], { timeoutMs: 90_000 });
    const elapsed = Date.now() - started;
    const props = await host.show(UNIT, ['ActiveState', 'SubState', 'StatusText', 'NRestarts', 'Result']);
    console.log(`systemctl enable --now ${UNIT}: ${elapsed} ms, ${JSON.stringify(props)}`);
    expect(enable.exitCode, `${enable.stderr}\n${await host.sh(`journalctl -b -u ${UNIT} --no-pager | tail -n 30`)}`).toBe(0);
    expect(elapsed).toBeLessThanOrEqual(15_000);
    expect(props).toMatchObject({ ActiveState: 'active', SubState: 'running', NRestarts: '0', Result: 'success' });
    expect(props.StatusText).toMatch(/^mode on on nftables/);
    expect(await host.sh('stat -c %a /etc/tsfw')).toBe('755');
    const listed = await listTable();
    expect(listed.exitCode, listed.stderr).toBe(0);
    table = listed.stdout;
    // Refused by configuration (NotifyAccess, the socket): never. "Cannot find unit for notify
    // message of PID N": systemd did not attribute a message of the daemon's systemd-notify child
    // (an auxiliary sender, which cannot send as the main PID without CAP_SYS_ADMIN;
    // systemd-notify(1) describes the limit). Seen once or twice per start in 4 of 7 runs on
    // 2026-12-01, with and without the unit's Environment= lines; its cause inside systemd is not
    // established. The daemon repeats READY=1 with every ping, so start-up completes (above);
    // docs/daemon.md says so.
    const journal = (await pid1Journal()).split('\n');
    const notifyTrouble = journal.filter((l) => /notif/i.test(l) && /cannot|refus|denied|disabled|only permitted|drop/i.test(l));
    const unattributed = notifyTrouble.filter((l) => /^Cannot find unit for notify message of PID \d+, ignoring\.$/.test(l));
    expect(notifyTrouble.filter((l) => !unattributed.includes(l)), notifyTrouble.join('\n')).toEqual([]);
    if (unattributed.length > 0) console.log(`systemd could not attribute ${unattributed.length} notification(s) of the systemd-notify child`);
  });

  it('runs the daemon with the unit\'s memory settings: NODE_OPTIONS whole (quoted in the unit), no JIT, MemoryDenyWriteExecute', async () => {
    const { MainPID: pid } = await host.show(UNIT, ['MainPID']);
    const env = (await host.sh(`tr '\\0' '\\n' < /proc/${pid}/environ`)).split('\n');
    expect(env).toContain('NODE_OPTIONS=--max-semi-space-size=1 --jitless --expose-gc');
    expect(env.filter((e) => e.startsWith('GLIBC_TUNABLES='))).toHaveLength(1);
    expect(await host.show(UNIT, ['MemoryDenyWriteExecute'])).toEqual({ MemoryDenyWriteExecute: 'yes' });
    // No mapping of the daemon is both writable and executable, and it still repairs (below).
    const maps = (await host.sh(`cat /proc/${pid}/maps`)).split('\n');
    expect(maps.filter((l) => /^\S+ .wx/.test(l))).toEqual([]);
  });

  it('reload runs a SIGHUP pass (ExecReload needs no /bin/kill)', async () => {
    expect((await host.run('test', ['-e', '/bin/kill'])).exitCode, 'the host must lack /bin/kill (procps)').not.toBe(0);
    // Debug level, so that the quiet pass the reload causes is logged too.
    await host.sh('printf "log:\\n  level: debug\\n" > /etc/tsfw/config.yaml');
    const reload = await host.run('systemctl', ['reload', UNIT]);
    expect(reload.exitCode, reload.stderr).toBe(0);
    const pass = await poll('a sighup pass in the journal', 15_000, async () =>
      (await daemonLog()).find((l) => l.cause === 'sighup' && /^(reconcile pass: nothing to do|netfilter drift repaired)$/.test(l.msg ?? '')));
    console.log(`after systemctl reload: ${JSON.stringify(pass)}`);
    expect((await host.show(UNIT, ['ActiveState'])).ActiveState).toBe('active');
  });

  it('repairs `nft flush ruleset` within 2 s', async () => {
    const flushed = Date.now();
    await host.sh('nft flush ruleset');
    await poll('the table to be back', 10_000, async () => {
      const r = await listTable();
      return r.exitCode === 0 && r.stdout === table ? true : undefined;
    });
    const ms = Date.now() - flushed;
    console.log(`nft flush ruleset → table repaired in ${ms} ms (including nsenter round trips)`);
    expect(ms).toBeLessThanOrEqual(2_000);
  });

  it('a hung daemon (SIGSTOP) is restarted by the watchdog (WatchdogSec=4s) within 15 s', async () => {
    await host.sh(`mkdir -p /etc/systemd/system/${UNIT}.d && printf "[Service]\\nWatchdogSec=4s\\n" > /etc/systemd/system/${UNIT}.d/watchdog.conf`);
    await host.sh(`systemctl daemon-reload && systemctl restart ${UNIT}`);
    const before = await host.show(UNIT, ['MainPID', 'NRestarts', 'WatchdogUSec']);
    expect(before.WatchdogUSec).toBe('4s');
    await host.sh(`systemctl kill --kill-who=main -s SIGSTOP ${UNIT}`);
    const stopped = Date.now();
    const after = await poll('a new main process after the watchdog fired', 30_000, async () => {
      const p = await host.show(UNIT, ['MainPID', 'NRestarts', 'ActiveState', 'SubState']);
      return p.MainPID !== before.MainPID && p.MainPID !== '0' && p.ActiveState === 'active' && p.SubState === 'running' ? p : undefined;
    });
    const ms = Date.now() - stopped;
    console.log(`SIGSTOP → restarted by the watchdog and ready again in ${ms} ms: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    expect(ms).toBeLessThanOrEqual(15_000);
    expect(Number(after.NRestarts)).toBe(Number(before.NRestarts) + 1);
    expect(await pid1Journal()).toMatch(/tsfw\.service: Watchdog timeout/);
    await host.sh(`rm -r /etc/systemd/system/${UNIT}.d && systemctl daemon-reload`);
  });

  it('stop ends with Result=success and leaves the rules in place', async () => {
    await host.sh(`systemctl stop ${UNIT}`);
    const props = await host.show(UNIT, ['ActiveState', 'Result']);
    expect(props).toEqual({ ActiveState: 'inactive', Result: 'success' });
    const listed = await listTable();
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toBe(table);
  });

  it('keeps the mode and contents of an existing /etc/tsfw (ConfigurationDirectory= never widens it)', async () => {
    await host.sh('chmod 700 /etc/tsfw');
    const before = await host.sh('cat /etc/tsfw/config.yaml');
    await host.sh(`systemctl start ${UNIT}`);
    expect(await host.sh('stat -c %a /etc/tsfw')).toBe('700');
    expect(await host.sh('cat /etc/tsfw/config.yaml')).toBe(before);
    await host.sh(`systemctl stop ${UNIT}`);
  });

  it('has an exposure of 2.0 or less in `systemd-analyze security` on the running systemd', async () => {
    const out = await host.sh(`systemd-analyze security ${UNIT} 2>&1`);
    const exposure = Number(/Overall exposure level for tsfw\.service: (\d+(?:\.\d+)?)/.exec(out)?.[1]);
    console.log(`systemd-analyze security ${UNIT} (online, systemd 252): exposure ${exposure}`);
    expect(exposure).toBeLessThanOrEqual(2.0);
  });

  it('a start-up that cannot succeed ends failed with the start limit tripped, not restarting forever', async () => {
    await host.sh('printf "mode: sideways\\n" > /etc/tsfw/config.yaml');
    await host.sh(`systemctl reset-failed ${UNIT}`);
    const cursor = /-- cursor: (\S+)/.exec(await host.sh(`journalctl -b -u ${UNIT} -n 0 --show-cursor --no-pager`))?.[1];
    expect(cursor).toBeDefined();
    const start = await host.run('systemctl', ['start', UNIT], { timeoutMs: 90_000 });
    expect(start.exitCode).not.toBe(0);
    // systemd 252 keeps Result=exit-code when the limit stops an automatic restart; the journal
    // says so, and a further start is refused with start-limit-hit until reset-failed.
    const tripped = await poll('the start limit to trip', 90_000, async () => {
      const journal = await host.sh(`journalctl -b -u ${UNIT} -o cat --no-pager --after-cursor='${cursor}'`);
      return /tsfw\.service: Start request repeated too quickly/.test(journal) ? journal : undefined;
    });
    const failed = await host.show(UNIT, ['ActiveState', 'Result', 'NRestarts', 'ExecMainStatus']);
    console.log(`invalid config: ${JSON.stringify(failed)}`);
    expect(failed).toMatchObject({ ActiveState: 'failed', ExecMainStatus: '78', NRestarts: '5' });
    expect(tripped).toMatch(/config: \/etc\/tsfw\/config\.yaml: mode:/);
    // The start and 4 automatic restarts (5 starts in StartLimitIntervalSec), then no more.
    expect(tripped.match(/^Starting tsfw\.service/gm)).toHaveLength(5);
    // A further start is refused at once (until reset-failed): no process is started.
    const again = await host.run('systemctl', ['start', UNIT]);
    expect(again.exitCode).not.toBe(0);
    const after = await host.sh(`journalctl -b -u ${UNIT} -o cat --no-pager --after-cursor='${cursor}'`);
    expect(after.match(/^Starting tsfw\.service/gm)).toHaveLength(5);
    expect(after.match(/Start request repeated too quickly/g)).toHaveLength(2);
    expect(await host.show(UNIT, ['ActiveState', 'NRestarts'])).toEqual({ ActiveState: 'failed', NRestarts: '5' });
  });
});
