import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../exec/runner.js';
import type { ManagerWants } from '../../model/types.js';
import { createUfwIntegration } from './integration.js';
import { hexComment } from './tuples.js';

const wants: ManagerWants = { tunnel: 'tailscale0', ports: [41641], managers: { firewalld: 'auto', ufw: 'auto', docker: 'auto' } };

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** ufw's files in a temp dir, and a runner that records calls; `iptables -L ufw-user-input` answers `loaded`. */
function setup(enabled: boolean, loaded: boolean, rules = '') {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-ufw-unit-'));
  dirs.push(dir);
  const paths = { binary: join(dir, 'ufw'), iptables: join(dir, 'iptables'), conf: join(dir, 'ufw.conf'), defaults: join(dir, 'default'), rules4: join(dir, 'user.rules'), rules6: join(dir, 'user6.rules') };
  writeFileSync(paths.binary, '');
  writeFileSync(paths.conf, `ENABLED=${enabled ? 'yes' : 'no'}\n`);
  writeFileSync(paths.defaults, 'IPV6=no\n');
  writeFileSync(paths.rules4, rules);
  const calls: string[] = [];
  const runner: CommandRunner = {
    run(file, args) {
      calls.push([file === paths.iptables ? 'iptables' : file, ...args].join(' '));
      return Promise.resolve({ stdout: '', stderr: '', exitCode: file === paths.iptables && !loaded ? 1 : 0 });
    },
  };
  return { integration: createUfwIntegration(runner, { paths }), calls, paths };
}

describe('ufw integration effects', () => {
  it('adds nothing to a disabled ufw, yet counts an installed one as active (its rules stay while disabled)', async () => {
    const { integration, calls } = setup(false, true);
    expect(await integration.active()).toBe(true);
    expect(await integration.ensure(wants, [], false)).toEqual({ record: [], changes: [] });
    expect(calls).toEqual([]);
  });

  it('adds nothing while ufw\'s chains are not loaded here (ENABLED=yes at boot, or the host\'s ufw seen from another namespace)', async () => {
    const { integration, calls } = setup(true, false);
    expect((await integration.ensure(wants, [], false)).changes).toEqual([]);
    expect(calls).toEqual(['iptables -n -L ufw-user-input']);
  });

  it('a dry run lists the commands\' items and runs nothing', async () => {
    const { integration, calls } = setup(true, true);
    expect((await integration.ensure(wants, [], true)).changes.map((c) => `${c.op} ${c.kind} ${c.value}`)).toEqual(['add allow-in tailscale0', 'add port 41641/udp', 'add route-in tailscale0']);
    expect(calls).toEqual([]);
  });

  it('runs one ufw command per missing item and records what the files show with tsfw\'s comment (adopted after a lost record)', async () => {
    const { integration, calls } = setup(true, true, `### tuple ### allow udp 41641 0.0.0.0/0 any 0.0.0.0/0 in comment=${hexComment('tsfw')}\n`);
    // The fake ufw writes nothing: the files, the record's truth, do not show the additions.
    await expect(integration.ensure(wants, [], false)).resolves.toEqual({ record: [{ kind: 'port', value: '41641/udp', permanent: true }], changes: [] });
    expect(calls).toEqual(['iptables -n -L ufw-user-input', 'ufw allow in on tailscale0 comment tsfw', 'ufw route allow in on tailscale0 comment tsfw']);
  });
});

describe('ufw integration failures', () => {
  it('a ufw failure that changed nothing is thrown (the step logs it and retries next pass)', async () => {
    const dir = setup(true, true);
    const failing: CommandRunner = { run: (file) => Promise.resolve({ stdout: '', stderr: 'ERROR: problem running', exitCode: file === dir.paths.iptables ? 0 : 1 }) };
    await expect(createUfwIntegration(failing, { paths: dir.paths }).ensure(wants, [], false)).rejects.toThrow('ufw allow in on tailscale0 comment tsfw: ERROR: problem running');
  });
});
