import { createLogger } from '../log/logger.js';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import type { ChildExit, ProcessSpawner } from '../exec/runner.js';
import { PASS_CAUSES, isAdminCause } from './causes.js';
import { createTriggerSources } from './daemon-triggers.js';
import { createWatchHints } from './freshness.js';
import type { Trigger } from './reconciler.js';

const quiet = createLogger('silent');
const config = (yaml: string) => parseConfigText(yaml, 'test').config;
const scope = { tables: ['inet tsfw'], builtins: [] };

function fakeSpawner() {
  const children: { argv: string; print: (line: string) => void; killed: boolean }[] = [];
  const spawner: ProcessSpawner = {
    spawn(file, args, onLine) {
      let exit!: (e: ChildExit) => void;
      const exited = new Promise<ChildExit>((resolve) => {
        exit = resolve;
      });
      const entry = { argv: [file, ...args].join(' '), print: onLine, killed: false };
      children.push(entry);
      return { pid: 100 + children.length, exited, kill: () => { entry.killed = true; exit({ signal: 'SIGTERM', stderr: '' }); } };
    },
  };
  return { spawner, children };
}

function setup(bus = { present: true }) {
  const { spawner, children } = fakeSpawner();
  const triggers: Trigger[] = [];
  const hints = createWatchHints(() => 0);
  const sources = createTriggerSources({ spawner, trigger: (t) => triggers.push(t), onConfigFile: () => undefined, log: { daemon: quiet, monitor: quiet, schedule: quiet }, hints, busPresent: () => bus.present });
  return { sources, children, triggers, hints, live: () => children.filter((c) => !c.killed).map((c) => c.argv) };
}

describe('daemon trigger sources', () => {
  it('follows the config: the nft monitor with a scope and watch on, the address monitor with addresses auto', async () => {
    const s = setup();
    await s.sources.sync(config('reconcile: {schedule: "0 0 * * * *"}'), scope, false);
    expect(s.live()).toEqual(['nft monitor', expect.stringMatching(/^ip .*monitor address/), expect.stringMatching(/^busctl .*monitor/)]);
    expect(s.sources.monitorStatus()).toMatchObject({ enabled: true, running: true });
    await s.sources.sync(config('reconcile: {schedule: "0 0 * * * *", watch: false}\naddresses: [100.64.0.1]\nintegrations: {firewalld: off}'), scope, false);
    expect(s.live()).toEqual([]);
    expect(s.sources.monitorStatus().enabled).toBe(false);
    // iptables-legacy: no scope, no monitor.
    await s.sources.sync(config('reconcile: {schedule: "0 0 * * * *"}\naddresses: [100.64.0.1]\nintegrations: {firewalld: off}'), undefined, false);
    expect(s.live()).toEqual([]);
    await s.sources.stop();
  });

  it('a monitor\'s events reach the pass queue; nothing new starts once stopping, and stop ends every child', async () => {
    const s = setup();
    await s.sources.sync(config('reconcile: {schedule: "0 0 * * * *"}'), scope, false);
    s.children[0]!.print('delete chain inet tsfw ts-input');
    s.children[0]!.print('# new generation 9 by process 77 (nft)');
    expect(s.triggers).toEqual([{ cause: 'event', detail: 'delete chain inet tsfw ts-input by nft[77]', by: 'nft[77]' }]);
    await s.sources.stop();
    expect(s.live()).toEqual([]);
    await s.sources.sync(config('reconcile: {schedule: "0 0 * * * *", watch: true}\ninterface: wg0'), { tables: ['inet other'], builtins: [] }, true);
    expect(s.live()).toEqual([]);
  });

  it('follows firewalld\'s Reloaded signal and its restarts in mode on with the integration auto only', async () => {
    const s = setup();
    const base = 'reconcile: {schedule: "0 0 * * * *", watch: false}\naddresses: [100.64.0.1]\n';
    await s.sources.sync(config(base), undefined, false);
    expect(s.live()).toEqual([expect.stringMatching(/^busctl --system --json=short monitor --match .*member='Reloaded'/)]);
    const watch = s.children.at(-1)!;
    watch.print('Monitoring bus message stream.');
    watch.print(JSON.stringify({ type: 'signal', interface: 'org.fedoraproject.FirewallD1', member: 'Reloaded', payload: { type: '', data: [] } }));
    watch.print(JSON.stringify({ type: 'signal', member: 'NameOwnerChanged', payload: { type: 'sss', data: ['org.fedoraproject.FirewallD1', ':1.4', ''] } }));
    watch.print(JSON.stringify({ type: 'signal', member: 'NameOwnerChanged', payload: { type: 'sss', data: ['org.fedoraproject.FirewallD1', '', ':1.9'] } }));
    watch.print(JSON.stringify({ type: 'method_call', interface: 'org.fedoraproject.FirewallD1', member: 'Reloaded' }));
    expect(s.triggers).toEqual([{ cause: 'firewalld', detail: 'firewalld reloaded' }, { cause: 'firewalld', detail: 'firewalld started' }]);
    for (const other of ['mode: nodivert', 'mode: off', 'integrations: {firewalld: off}']) {
      await s.sources.sync(config(`${base}${other}`), undefined, false);
      expect(s.live()).toEqual([]);
    }
    await s.sources.stop();
  });

  it('starts no busctl watch without a system bus, and asks for a sync once the bus is there', async () => {
    const bus = { present: false };
    const s = setup(bus);
    const cfg = config('reconcile: {schedule: "0 0 * * * *", watch: false}\naddresses: [100.64.0.1]\n');
    await s.sources.sync(cfg, undefined, false);
    expect(s.live()).toEqual([]);
    expect(s.sources.needsSync(cfg)).toBe(false);
    bus.present = true;
    expect(s.sources.needsSync(cfg)).toBe(true);
    await s.sources.sync(cfg, undefined, false);
    expect(s.live()).toEqual([expect.stringMatching(/^busctl /)]);
    expect(s.sources.needsSync(cfg)).toBe(false);
    await s.sources.stop();
  });

  it('tells the hints what the watchers saw: ip/ip6 filter changes, any address line', async () => {
    const s = setup();
    await s.sources.sync(config('reconcile: {schedule: "0 0 * * * *"}\nintegrations: {firewalld: off}'), scope, false);
    const [nft, ip] = s.children;
    // Not live until the children have had time to subscribe (real timers: poll, no bare sleep).
    for (let i = 0; i < 100 && !(s.hints.iptFilter.stamp() && s.hints.addresses.stamp()); i += 1) await new Promise((r) => setTimeout(r, 10));
    const filterStamp = s.hints.iptFilter.stamp();
    const addrStamp = s.hints.addresses.stamp();
    expect(s.hints.iptFilter.holds(filterStamp)).toBe(true);
    nft!.print('add rule inet other c handle 3');
    expect(s.hints.iptFilter.holds(filterStamp)).toBe(true);
    nft!.print('add chain ip filter DOCKER-USER');
    expect(s.hints.iptFilter.holds(filterStamp)).toBe(false);
    expect(s.hints.addresses.holds(addrStamp)).toBe(true);
    ip!.print('5: eth9    inet 192.0.2.7/24 scope global eth9');
    expect(s.hints.addresses.holds(addrStamp)).toBe(false);
    await s.sources.stop();
    expect(s.hints.addresses.stamp()).toBeUndefined();
    expect(s.hints.iptFilter.stamp()).toBeUndefined();
  });

  it('every cause is in one table that says where it comes from and whether it is the admin\'s', () => {
    expect(Object.keys(PASS_CAUSES).sort()).toEqual(['addresses', 'backoff-end', 'config', 'event', 'firewalld', 'monitor-restart', 'resync', 'schedule', 'sighup', 'startup', 'watchdog']);
    expect(Object.keys(PASS_CAUSES).filter((c) => isAdminCause(c as keyof typeof PASS_CAUSES)).sort()).toEqual(['addresses', 'config', 'sighup', 'startup']);
  });
});
