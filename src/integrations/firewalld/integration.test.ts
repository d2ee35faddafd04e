import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../exec/runner.js';
import type { ManagerWants } from '../../model/types.js';
import type { IntegrationItem } from '../types.js';
import { busctlBus, busError } from './bus.js';
import { fakeFirewalld } from './fake-bus.js';
import type { FakeFirewalld } from './fake-bus.js';
import { createFirewalldIntegration } from './integration.js';
import { fromRecorded, toRecorded } from './plan.js';

const WANTS: ManagerWants = { tunnel: 'tailscale0', ports: [41641], managers: { firewalld: 'auto', ufw: 'auto', docker: 'auto' } };

/** `ip -j route show default` answers: `v4`/`v6` are the default routes' devices. */
function routes(v4: string[], v6: string[] = []): CommandRunner {
  return {
    run: (_file, args) => Promise.resolve({ stdout: JSON.stringify((args.includes('-6') ? v6 : v4).map((dev) => ({ dst: 'default', dev }))), stderr: '', exitCode: 0 }),
  };
}

/** Both layers' zones as sorted text, for before/after comparisons. */
function dump(fw: FakeFirewalld): string {
  return (['runtime', 'permanent'] as const).map((l) => [...fw.zones[l]].map(([n, z]) => `${l} ${n} if=${[...z.interfaces].sort().join(',')} ports=${[...z.ports].sort().join(',')}`).join('\n')).join('\n');
}

describe('firewalld integration (fake bus)', () => {
  it('binds the tunnel to trusted and opens the port in the WAN zone, in both layers, and undoes exactly that', async () => {
    const fw = fakeFirewalld();
    fw.zones.runtime.get('external')!.interfaces.add('wan0');
    fw.zones.permanent.get('external')!.interfaces.add('wan0');
    fw.copied.add('external'); // the admin's permanent change made firewalld copy the zone
    const before = dump(fw);
    const fwd = createFirewalldIntegration(routes(['wan0']), fw);
    expect(await fwd.active()).toBe(true);
    const first = await fwd.ensure(WANTS, [], false);
    expect(first.changes.map((c) => `${c.op} ${c.kind} ${c.value} ${c.permanent}`)).toEqual([
      expect.stringMatching(/^add zone-defaults trusted:[0-9a-f]{16} true$/),
      'add zone-interface trusted:tailscale0 false', 'add zone-interface trusted:tailscale0 true',
      'add port external:41641/udp false', 'add port external:41641/udp true',
    ]);
    expect(fw.copied).toEqual(new Set(['trusted', 'external']));
    expect(fw.zones.permanent.get('trusted')!.interfaces.has('tailscale0')).toBe(true);
    expect(fw.zones.runtime.get('external')!.ports.has('41641/udp')).toBe(true);
    // Converged: nothing to do, the record is unchanged.
    const again = await fwd.ensure(WANTS, first.record, false);
    expect(again.changes).toEqual([]);
    expect(again.record).toEqual(first.record);
    // A reload keeps everything (it is permanent too).
    fw.reload();
    expect((await fwd.ensure(WANTS, first.record, false)).changes).toEqual([]);
    const undone = await fwd.undo(first.record, false);
    expect(undone.record).toEqual([]);
    expect(undone.changes).toHaveLength(5);
    expect(dump(fw)).toBe(before);
    // trusted is firewalld's built-in default again (no copy left in /etc/firewalld/zones); the admin's external stays a copy.
    expect(fw.copied).toEqual(new Set(['external']));
  });

  it('keeps firewalld\'s copy of a zone the admin changed meanwhile: only the defaults as tsfw found them are reloaded', async () => {
    const fw = fakeFirewalld();
    const fwd = createFirewalldIntegration(routes([]), fw);
    const { record } = await fwd.ensure(WANTS, [], false);
    fw.zones.permanent.get('public')!.ports.add('22/tcp'); // the admin's own change, after tsfw's
    await fwd.undo(record, false);
    expect([...fw.zones.permanent.get('public')!.ports]).toEqual(['22/tcp']);
    expect(fw.copied).toEqual(new Set(['public']));
  });

  it('uses the default zone when no interface holds a default route, and each WAN zone once', async () => {
    const fw = fakeFirewalld();
    const none = await createFirewalldIntegration(routes([]), fw).ensure(WANTS, [], true);
    expect(none.changes.filter((c) => c.kind === 'port').map((c) => c.value)).toEqual(['public:41641/udp', 'public:41641/udp']);
    expect(fw.writes).toEqual([]); // a dry run
    const both = await createFirewalldIntegration(routes(['wan0'], ['wan0']), fw).ensure({ ...WANTS, ports: [41641, 41642] }, [], true);
    expect(both.changes.filter((c) => c.kind === 'port' && !c.permanent).map((c) => c.value)).toEqual(['public:41641/udp', 'public:41642/udp']);
  });

  it('leaves what the admin had: an open port and a tunnel bound to another zone are neither recorded nor removed', async () => {
    const fw = fakeFirewalld();
    for (const l of ['runtime', 'permanent'] as const) {
      fw.zones[l].get('public')!.ports.add('41641/udp');
      fw.zones[l].get('internal')!.interfaces.add('tailscale0');
    }
    const before = dump(fw);
    const fwd = createFirewalldIntegration(routes(['wan0']), fw);
    const out = await fwd.ensure(WANTS, [], false);
    expect(out.changes).toEqual([]);
    expect(out.record).toEqual([]);
    expect(dump(fw)).toBe(before);
  });

  it('adds again what a reload from a rewritten permanent config lost, keeping it recorded', async () => {
    const fw = fakeFirewalld();
    const fwd = createFirewalldIntegration(routes([]), fw);
    const { record } = await fwd.ensure(WANTS, [], false);
    fw.zones.permanent.get('trusted')!.interfaces.clear();
    fw.reload();
    const again = await fwd.ensure(WANTS, record, false);
    expect(again.changes.map((c) => `${c.op} ${c.value} ${c.permanent}`)).toEqual(['add trusted:tailscale0 false', 'add trusted:tailscale0 true']);
    expect(again.record).toEqual(record);
  });

  it('moves the port when the WAN zone changes, removing only its own old one', async () => {
    const fw = fakeFirewalld();
    const { record } = await createFirewalldIntegration(routes([]), fw).ensure(WANTS, [], false);
    fw.defaultZone = 'home';
    const moved = await createFirewalldIntegration(routes([]), fw).ensure(WANTS, record, false);
    expect(moved.changes.map((c) => `${c.op} ${c.kind} ${c.value.replace(/:[0-9a-f]{16}$/, ':<digest>')}`)).toEqual([
      'add zone-defaults home:<digest>', 'add port home:41641/udp', 'add port home:41641/udp',
      'remove port public:41641/udp', 'remove port public:41641/udp', 'remove zone-defaults public:<digest>',
    ]);
    expect(fw.zones.permanent.get('public')!.ports.size).toBe(0);
    expect(fw.copied).toEqual(new Set(['trusted', 'home']));
  });

  it('records what a pass did before a call failed, so the next pass finishes the job', async () => {
    const fw = fakeFirewalld();
    const fwd = createFirewalldIntegration(routes([]), fw);
    fw.failNextWrite();
    await expect(fwd.ensure(WANTS, [], false)).rejects.toThrow('injected');
    fw.writes.length = 0;
    const partial = await (async () => {
      const orig = fw.call.bind(fw);
      let n = 0;
      fw.call = (p, i, m, a) => (/^(add|remove)/.test(m) && ++n === 3 ? Promise.reject(new Error('bus gone')) : orig(p, i, m, a));
      try {
        return await fwd.ensure(WANTS, [], false);
      } finally {
        fw.call = orig;
      }
    })();
    // The two zone-defaults notes (trusted, public), then two real changes before the third call failed.
    expect(partial.changes.filter((c) => c.kind !== 'zone-defaults')).toHaveLength(2);
    expect(partial.record).toHaveLength(4);
    const rest = await fwd.ensure(WANTS, partial.record, false);
    expect(rest.changes).toHaveLength(2);
    expect(rest.record).toHaveLength(6);
  });

  it('keeps the record while firewalld is stopped, and is inactive then', async () => {
    const fw = fakeFirewalld();
    const fwd = createFirewalldIntegration(routes([]), fw);
    const { record } = await fwd.ensure(WANTS, [], false);
    fw.running = false;
    expect(await fwd.active()).toBe(false);
    expect(await fwd.undo(record, false)).toEqual({ record, changes: [] });
  });
});

describe('firewalld record and bus errors', () => {
  it('round-trips items through the record and ignores what is not firewalld\'s', () => {
    const item = { kind: 'port', zone: 'public', name: '41641/udp', layer: 'permanent' } as const;
    expect(fromRecorded(toRecorded(item))).toEqual(item);
    const odd: IntegrationItem[] = [{ kind: 'rule', value: 'x', permanent: true }, { kind: 'port', value: 'public:', permanent: false }];
    expect(odd.map(fromRecorded)).toEqual([undefined, undefined]);
  });

  it('calls busctl with typed arguments and reads its JSON reply; spawns nothing without a system bus', async () => {
    const calls: string[][] = [];
    const runner: CommandRunner = {
      run: (file, args) => {
        calls.push([file, ...args]);
        return Promise.resolve({ stdout: '{"type":"s","data":["public"]}\n', stderr: '', exitCode: 0 });
      },
    };
    expect(await busctlBus(runner, () => true).call('/org/fedoraproject/FirewallD1', 'org.fedoraproject.FirewallD1.zone', 'addPort', ['public', '41641', 'udp', 0])).toEqual(['public']);
    expect(calls[0]).toEqual(['busctl', '--system', '--json=short', '--timeout=10', 'call', 'org.fedoraproject.FirewallD1', '/org/fedoraproject/FirewallD1', 'org.fedoraproject.FirewallD1.zone', 'addPort', 'sssi', 'public', '41641', 'udp', '0']);
    await expect(busctlBus(runner, () => false).property('/', 'x', 'state')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(calls).toHaveLength(1);
  });

  it('maps busctl failures to firewalld\'s error names, and an absent firewalld to UNREACHABLE', () => {
    expect(busError('Call failed: NOT_ENABLED: \'41641:udp\' not in \'public\'\n').code).toBe('NOT_ENABLED');
    expect(busError('Call failed: The name org.fedoraproject.FirewallD1 was not provided by any .service files\n').code).toBe('UNREACHABLE');
    expect(busError('Failed to connect to bus: No such file or directory\n').code).toBe('UNREACHABLE');
  });
});
