import { describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner, RunOptions } from '../../exec/runner.js';
import type { ManagerWants } from '../../model/types.js';
import { createFreshness } from '../../reconcile/freshness.js';
import { createDockerIntegration } from './docker.js';
import { itemOf } from './plan.js';

/** What `iptables -v -S CHAIN` prints beside a running dockerd, per chain. */
const DOCKER: Record<string, string> = {
  'DOCKER-USER': '-N DOCKER-USER\n-A DOCKER-USER -c 0 0 -j RETURN\n',
  FORWARD: '-P FORWARD DROP -c 0 0\n-A FORWARD -c 3 180 -j DOCKER-USER\n',
};

/** Listings of a table that has dockerd's chains. */
const docker = (bin: string) => ({ [`${bin} DOCKER-USER`]: DOCKER['DOCKER-USER']!, [`${bin} FORWARD`]: DOCKER.FORWARD! });
const LEGACY_FILTER = () => 'filter\n';

const WANTS: ManagerWants = { tunnel: 'tailscale0', ports: [41641], managers: { firewalld: 'auto', ufw: 'auto', docker: 'auto' } };

/** A runner that answers chain listings (`BINARY CHAIN` keys) from a table of outputs and records every call. */
function fakeRunner(listings: Record<string, string>, failRestore = false): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
      calls.push([file, ...args].join(' ') + (options?.input ? `\n${options.input}` : ''));
      if (file.endsWith('-restore')) {
        if (failRestore) return Promise.reject(new Error(`${file}: failed`));
        return Promise.resolve({ stdout: '', stderr: '', exitCode: 0 });
      }
      const out = listings[`${file} ${args.at(-1)}`];
      return Promise.resolve(out === undefined ? { stdout: '', stderr: 'not found', exitCode: 1 } : { stdout: out, stderr: '', exitCode: 0 });
    },
  };
}

describe('createDockerIntegration', () => {
  it('is active where DOCKER-USER exists, reads legacy only where x_tables is loaded, and writes one noflush commit', async () => {
    const runner = fakeRunner(docker('iptables-nft'));
    const integration = createDockerIntegration(runner, { readText: () => undefined });
    expect(await integration.active()).toBe(true);
    const outcome = await integration.ensure(WANTS, [], false);
    expect(outcome.changes.map((c) => `${c.op} ${c.value}`)).toEqual(['add iptables-nft ip in tailscale0', 'add iptables-nft ip out tailscale0']);
    // Chain by chain, never a save: FORWARD only where DOCKER-USER exists. The families are read
    // at the same time; the write comes after both.
    expect(runner.calls.slice(0, 3).sort()).toEqual([
      'ip6tables-nft -w -t filter -v -S DOCKER-USER',
      'iptables-nft -w -t filter -v -S DOCKER-USER',
      'iptables-nft -w -t filter -v -S FORWARD',
    ]);
    expect(runner.calls.slice(3)).toEqual([
      'iptables-nft-restore --noflush -w\n*filter\n-I DOCKER-USER 1 -i tailscale0 -m comment --comment tsfw:docker-in -j ACCEPT\n-I DOCKER-USER 1 -o tailscale0 -m comment --comment tsfw:docker-out -j ACCEPT\nCOMMIT\n',
    ]);
  });

  it('is not active without Docker; a dry run writes nothing and keeps the record', async () => {
    expect(await createDockerIntegration(fakeRunner({}), { readText: LEGACY_FILTER }).active()).toBe(false);
    const runner = fakeRunner(docker('iptables-legacy'));
    const integration = createDockerIntegration(runner, { readText: LEGACY_FILTER });
    const outcome = await integration.ensure(WANTS, [], true);
    expect(outcome).toMatchObject({ record: [], changes: [{ op: 'add', value: 'iptables-legacy ip in tailscale0' }, { op: 'add', value: 'iptables-legacy ip out tailscale0' }] });
    expect(runner.calls.filter((c) => c.includes('restore'))).toEqual([]);
    expect(runner.calls).toContain('iptables-legacy -w -t filter -v -S DOCKER-USER');
  });

  it('never names a legacy table that does not exist (naming one creates it)', async () => {
    const runner = fakeRunner({});
    const noFilter = createDockerIntegration(runner, { readText: (path) => (path.endsWith('/ip_tables_names') ? 'nat\n' : undefined) });
    expect(await noFilter.active()).toBe(false);
    expect(runner.calls.filter((c) => c.includes('legacy'))).toEqual([]);
  });

  it('undo of rules already gone writes nothing and empties the record; a failed first write throws', async () => {
    const recorded = [itemOf({ flavour: 'nft', family: 'ip', direction: 'in', iface: 'tailscale0' })];
    const runner = fakeRunner(docker('iptables-nft'));
    expect(await createDockerIntegration(runner, { readText: () => undefined }).undo(recorded, false)).toEqual({ record: [], changes: [] });
    const failing = createDockerIntegration(fakeRunner(docker('iptables-nft'), true), { readText: () => undefined });
    await expect(failing.ensure(WANTS, [], false)).rejects.toThrow('iptables-nft-restore: failed');
  });

  it('in the daemon, reuses the iptables-nft reads while nft monitor saw nothing in the filter tables, never legacy\'s', async () => {
    let now = 0;
    const fresh = createFreshness(30_000, () => now);
    const runner = fakeRunner({});
    const integration = createDockerIntegration(runner, { readText: LEGACY_FILTER, iptFilter: fresh });
    const nftReads = () => runner.calls.filter((c) => c.startsWith('ip') && c.includes('-nft ')).length;
    const legacyReads = () => runner.calls.filter((c) => c.includes('-legacy ')).length;
    // The monitor is not live yet: every pass reads.
    expect(await integration.active()).toBe(false);
    expect(await integration.active()).toBe(false);
    expect(nftReads()).toBe(4);
    fresh.setLive(true);
    expect(await integration.active()).toBe(false); // read under a live monitor
    expect(await integration.active()).toBe(false); // reused
    expect(nftReads()).toBe(6);
    expect(legacyReads()).toBe(8); // legacy has no events: read every pass
    // dockerd creates its chains: the monitor reports a change in ip filter, the next pass reads.
    const withDocker = fakeRunner(docker('iptables-nft'));
    const seen = createDockerIntegration(withDocker, { readText: () => undefined, iptFilter: fresh });
    expect(await seen.active()).toBe(true);
    await seen.ensure(WANTS, [], false);
    expect(withDocker.calls.filter((c) => c.includes('restore'))).toHaveLength(1);
    // After its own write the integration reads again, even with the monitor silent.
    const before = withDocker.calls.length;
    await seen.active();
    expect(withDocker.calls.length).toBeGreaterThan(before);
    // A change in ip filter, and age, each end the reuse.
    const n = nftReads();
    fresh.changed();
    await integration.active();
    await integration.active();
    expect(nftReads()).toBe(n + 2);
    now += 30_000;
    await integration.active();
    expect(nftReads()).toBe(n + 4);
  });
});
