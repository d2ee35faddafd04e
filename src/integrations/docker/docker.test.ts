import { describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner, RunOptions } from '../../exec/runner.js';
import type { ManagerWants } from '../../model/types.js';
import { createDockerIntegration } from './docker.js';
import { itemOf } from './plan.js';

const DOCKER = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -j RETURN
COMMIT
`;

const WANTS: ManagerWants = { tunnel: 'tailscale0', ports: [41641], managers: { firewalld: 'auto', ufw: 'auto', docker: 'auto' } };

/** A runner that answers saves from a table of outputs and records every call. */
function fakeRunner(saves: Record<string, string>, failRestore = false): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
      calls.push([file, ...args].join(' ') + (options?.input ? `\n${options.input}` : ''));
      if (file.endsWith('-restore')) {
        if (failRestore) return Promise.reject(new Error(`${file}: failed`));
        return Promise.resolve({ stdout: '', stderr: '', exitCode: 0 });
      }
      const out = saves[file];
      return Promise.resolve(out === undefined ? { stdout: '', stderr: 'not found', exitCode: 1 } : { stdout: out, stderr: '', exitCode: 0 });
    },
  };
}

describe('createDockerIntegration', () => {
  it('is active where DOCKER-USER exists, reads legacy only where x_tables is loaded, and writes one noflush commit', async () => {
    const runner = fakeRunner({ 'iptables-nft-save': DOCKER, 'ip6tables-nft-save': '' });
    const docker = createDockerIntegration(runner, { exists: () => false });
    expect(await docker.active()).toBe(true);
    const outcome = await docker.ensure(WANTS, [], false);
    expect(outcome.changes.map((c) => `${c.op} ${c.value}`)).toEqual(['add iptables-nft ip in tailscale0', 'add iptables-nft ip out tailscale0']);
    expect(runner.calls).toEqual([
      'iptables-nft-save -t filter',
      'ip6tables-nft-save -t filter',
      'iptables-nft-restore --noflush -w\n*filter\n-I DOCKER-USER 1 -i tailscale0 -m comment --comment tsfw:docker-in -j ACCEPT\n-I DOCKER-USER 1 -o tailscale0 -m comment --comment tsfw:docker-out -j ACCEPT\nCOMMIT\n',
    ]);
  });

  it('is not active without Docker; a dry run writes nothing and keeps the record', async () => {
    const runner = fakeRunner({ 'iptables-nft-save': '', 'ip6tables-nft-save': '', 'iptables-legacy-save': DOCKER, 'ip6tables-legacy-save': '' });
    expect(await createDockerIntegration(fakeRunner({}), { exists: () => true }).active()).toBe(false);
    const docker = createDockerIntegration(runner, { exists: () => true });
    const outcome = await docker.ensure(WANTS, [], true);
    expect(outcome).toMatchObject({ record: [], changes: [{ op: 'add', value: 'iptables-legacy ip in tailscale0' }, { op: 'add', value: 'iptables-legacy ip out tailscale0' }] });
    expect(runner.calls.filter((c) => c.includes('restore'))).toEqual([]);
    expect(runner.calls).toContain('iptables-legacy-save');
  });

  it('undo of rules already gone writes nothing and empties the record; a failed first write throws', async () => {
    const recorded = [itemOf({ flavour: 'nft', family: 'ip', direction: 'in', iface: 'tailscale0' })];
    const runner = fakeRunner({ 'iptables-nft-save': DOCKER, 'ip6tables-nft-save': '' });
    expect(await createDockerIntegration(runner, { exists: () => false }).undo(recorded, false)).toEqual({ record: [], changes: [] });
    const failing = createDockerIntegration(fakeRunner({ 'iptables-nft-save': DOCKER, 'ip6tables-nft-save': '' }, true), { exists: () => false });
    await expect(failing.ensure(WANTS, [], false)).rejects.toThrow('iptables-nft-restore: failed');
  });
});
