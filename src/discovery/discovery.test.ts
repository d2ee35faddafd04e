import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../backends/iptables/parse.js';
import { iptScripts, planIptables } from '../backends/iptables/plan.js';
import { desiredIptTables } from '../backends/iptables/render.js';
import { parseConfigText } from '../config/parse.js';
import { ConfigError } from '../config/errors.js';
import { ExecError } from '../exec/errors.js';
import type { CommandRunner } from '../exec/runner.js';
import { rulesetFor } from '../profiles/load.js';
import { concernsInterface } from '../reconcile/address-watch.js';
import { discoverAddresses } from './addresses.js';
import { discoverFacts } from './discover.js';
import { resolveFacts } from './facts.js';
import { createPortsProbe, discoverPorts } from './ports.js';
import type { ProcFs } from './ports.js';
import { parseProcNetUdp } from './proc-net.js';

const config = (yaml = '') => parseConfigText(yaml, 'test').config;

const ipAddr = (addrs: { family: string; local: string; prefixlen: number }[]) =>
  JSON.stringify([{ ifindex: 3, ifname: 'tailscale0', addr_info: addrs }]);

function runner(stdout: string | Error): CommandRunner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async run(file, args) {
      calls.push([file, ...args]);
      if (stdout instanceof Error) throw stdout;
      return { stdout, stderr: '', exitCode: 0 };
    },
  };
}

const UDP_HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
const udpRow = (addr: string, port: number, st: string, inode: number) =>
  `  1: ${addr}:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 0\n`;

/** A fake /proc: pid → comm and socket inodes, plus this namespace's udp tables. */
function procFs(procs: Record<string, { comm: string; inodes: number[] }>, udp: string, udp6 = UDP_HEADER): ProcFs {
  return {
    readdir(path) {
      if (path === '/proc') return [...Object.keys(procs), 'self', 'net'];
      const pid = /^\/proc\/(\d+)\/fd$/.exec(path)?.[1];
      if (pid && procs[pid]) return procs[pid].inodes.map((_, i) => String(i + 3)).concat(['0']);
      throw new Error(`ENOENT ${path}`);
    },
    readFile(path) {
      if (path === '/proc/self/net/udp') return udp;
      if (path === '/proc/self/net/udp6') return udp6;
      const pid = /^\/proc\/(\d+)\/comm$/.exec(path)?.[1];
      if (pid && procs[pid]) return `${procs[pid].comm}\n`;
      throw new Error(`ENOENT ${path}`);
    },
    readlink(path) {
      const [, pid, fd] = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(path) ?? [];
      if (fd === '0') return '/dev/null';
      const inode = procs[pid!]?.inodes[Number(fd) - 3];
      if (inode === undefined) throw new Error(`ENOENT ${path}`);
      return `socket:[${inode}]`;
    },
  };
}

describe('addresses: auto', () => {
  it('reads the interface through ip -j addr show dev, as host prefixes, skipping link-local IPv6', async () => {
    const r = runner(ipAddr([
      { family: 'inet', local: '100.101.102.103', prefixlen: 32 },
      { family: 'inet6', local: 'fd7a:115c:a1e0::1', prefixlen: 128 },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
    ]));
    expect(await discoverAddresses(r, 'tailscale0')).toEqual({ values: ['100.101.102.103/32', 'fd7a:115c:a1e0::1/128'], source: 'interface' });
    expect(r.calls).toEqual([['ip', '-j', 'addr', 'show', 'dev', 'tailscale0']]);
  });

  it('no interface or no address yet is a note, not an error', async () => {
    const missing = new ExecError('failed', 'ip -j addr show dev tailscale0', 1, 'Device "tailscale0" does not exist.');
    expect(await discoverAddresses(runner(missing), 'tailscale0')).toEqual({ values: [], source: 'none', note: 'interface tailscale0 does not exist yet' });
    expect(await discoverAddresses(runner(ipAddr([])), 'tailscale0')).toEqual({ values: [], source: 'none', note: 'no address on tailscale0 yet' });
  });

  it('each discovered address becomes an own-address rule; an explicit list is used as is, without discovery', async () => {
    const r = runner(ipAddr([{ family: 'inet', local: '100.101.102.103', prefixlen: 32 }]));
    const facts = await discoverFacts(config(), { runner: r, procFs: procFs({}, UDP_HEADER) });
    const ids = rulesetFor(config(), 'on', facts).chains.find((c) => c.name === 'ts-input')!.rules.map((x) => x.id);
    expect(ids[0]).toBe('ts-input/own-address-from-lo[100.101.102.103/32]');
    const explicit = runner('[]');
    const listed = await discoverFacts(config('addresses: [100.100.0.1]\nports: [41641]'), { runner: explicit });
    expect(explicit.calls).toEqual([]);
    expect(listed.addresses).toEqual({ values: ['100.100.0.1'], source: 'config' });
  });
});

describe('ports: auto', () => {
  const udp = UDP_HEADER + udpRow('00000000', 45678, '07', 1001) + udpRow('0100007F', 5353, '07', 1002) + udpRow('00000000', 40000, '01', 1003) + udpRow('00000000', 9999, '07', 2001);

  it("finds tailscaled's unconnected, non-loopback UDP ports in this namespace", () => {
    const fs = procFs({ 42: { comm: 'tailscaled', inodes: [1001, 1002, 1003, 7777] }, 43: { comm: 'other', inodes: [2001] } }, udp, UDP_HEADER + udpRow('00000000000000000000000000000000', 45678, '07', 1004));
    expect(discoverPorts(fs)).toEqual({ values: [45678], source: 'tailscaled', note: 'pid 42' });
  });

  it('falls back to 41641 with a note when no tailscaled runs, or it holds no socket here', () => {
    expect(discoverPorts(procFs({ 43: { comm: 'other', inodes: [2001] } }, udp))).toEqual({ values: [41641], source: 'fallback', note: 'no tailscaled process running in this network namespace' });
    // Its socket inode is not in this namespace's table: a tailscaled in another namespace.
    expect(discoverPorts(procFs({ 42: { comm: 'tailscaled', inodes: [5555] } }, udp)).source).toBe('fallback');
  });

  it('the daemon\'s probe rescans only when a UDP socket of this namespace comes or goes, or the answer is 30 s old', () => {
    let now = 0;
    let comms = 0;
    const procs: Record<string, { comm: string; inodes: number[] }> = { 43: { comm: 'other', inodes: [2001] } };
    let table = udp;
    const base = procFs(procs, '');
    const fs: ProcFs = {
      ...base,
      readFile(path) {
        if (path === '/proc/self/net/udp') return table;
        if (path === '/proc/self/net/udp6') return UDP_HEADER;
        if (path.endsWith('/comm')) comms += 1;
        return base.readFile(path);
      },
    };
    const probe = createPortsProbe(() => now, fs);
    expect(probe().source).toBe('fallback');
    now += 1000;
    // Traffic changes a socket's queue counters, not the sockets: still the same answer, no scan.
    table = table.replace(' 00000000:00000000 ', ' 00000000:00000040 ');
    expect(probe().source).toBe('fallback');
    expect(comms).toBe(1);
    // tailscaled starts and binds a new socket.
    procs[42] = { comm: 'tailscaled', inodes: [3001] };
    table += udpRow('00000000', 41999, '07', 3001);
    expect(probe()).toEqual({ values: [41999], source: 'tailscaled', note: 'pid 42' });
    expect(comms).toBe(3);
    // Renamed into tailscaled while holding an old socket: seen once the answer is 30 s old.
    procs[43]!.comm = 'tailscaled';
    expect(probe().values).toEqual([41999]);
    now += 30_000;
    expect(probe().values).toEqual([9999, 41999]);
  });

  it('without discovery, auto resolves to the fallback port and no address', () => {
    expect(resolveFacts(config())).toEqual({
      addresses: { values: [], source: 'none', note: 'not discovered' },
      ports: { values: [41641], source: 'fallback', note: 'not discovered' },
    });
  });

  it('parses /proc/net/udp rows', () => {
    expect(parseProcNetUdp(udp)).toEqual([
      { port: 45678, inode: '1001', listening: true, loopback: false },
      { port: 5353, inode: '1002', listening: true, loopback: true },
      { port: 40000, inode: '1003', listening: false, loopback: false },
      { port: 9999, inode: '2001', listening: true, loopback: false },
    ]);
  });
});

describe('validation of addresses and ports', () => {
  const problems = (yaml: string) => {
    try {
      config(yaml);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };
  it('names the key', () => {
    expect(problems('addresses: automatic')).toEqual(["addresses: must be 'auto' or a list of addresses"]);
    expect(problems('ports: 41641')).toEqual(["ports: must be 'auto' or a list of ports"]);
    expect(problems('ports: [0]')).toEqual(['ports[0]: must be between 1 and 65535']);
    expect(problems('addresses: [nope]')[0]).toMatch(/^addresses\[0\]: /);
  });
});

describe('address monitor lines', () => {
  it('concern the watched interface only', () => {
    expect(concernsInterface('3: tailscale0    inet 100.101.102.103/32 scope global tailscale0', 'tailscale0')).toBe(true);
    expect(concernsInterface('Deleted 3: tailscale0    inet 100.101.102.103/32 scope global tailscale0', 'tailscale0')).toBe(true);
    expect(concernsInterface('4: lan0    inet 192.0.2.1/24 scope global lan0', 'tailscale0')).toBe(false);
    expect(concernsInterface('3: tailscale0    inet6 fe80::1/64 scope link', 'tailscale0')).toBe(false);
    expect(concernsInterface('3: tailscale0    inet6 fd7a:115c:a1e0::1/128 scope global', 'tailscale0')).toBe(true);
  });
});

describe('a changed port is one transaction', () => {
  it('iptables: the old rule goes in the same restore that adds the new one', () => {
    const c = config('families: [ip]');
    const at = (port: number) => rulesetFor(c, 'on', { ...resolveFacts(c), ports: { values: [port], source: 'tailscaled' } });
    const lines = desiredIptTables(at(45678)).find((t) => t.table === 'filter')!.chains.flatMap((ch) => ch.rules.map((r) => r.line));
    const save = `*filter\n:INPUT ACCEPT [0:0]\n:ts-input - [0:0]\n:ts-forward - [0:0]\n-A INPUT -m comment --comment "tsfw:jump" -j ts-input\n-A FORWARD -m comment --comment "tsfw:jump" -j ts-forward\n${lines.join('\n')}\nCOMMIT\n`;
    const plan = planIptables(at(45999), { families: [{ family: 'ip', tables: parseIptablesSave(save) }] }, { jumpPosition: 'first' });
    const filter = iptScripts(plan.ops).filter((s) => s.table === 'filter');
    expect(filter).toHaveLength(1);
    expect(filter[0]!.script).toContain(':ts-input - [0:0]');
    expect(filter[0]!.script).toContain('--dport 45999');
    expect(filter[0]!.script).not.toContain('--dport 45678');
  });
});
