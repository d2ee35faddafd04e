import { describe, expect, it } from 'vitest';
import { isRelevant, parseMonitorLine, touchesIptFilter, touchesTables } from './monitor-events.js';

const scope = { tables: ['inet tsfw'] };
const iptScope = { tables: ['ip filter', 'ip nat'], builtins: ['INPUT', 'FORWARD', 'POSTROUTING'] };

describe('nft monitor lines (text mode, as nft 1.0.6 prints them)', () => {
  it('summarises rule, chain and table changes', () => {
    expect(parseMonitorLine('delete rule inet tsfw ts-input handle 7')).toEqual({ kind: 'change', summary: 'delete rule inet tsfw ts-input', object: 'rule', family: 'inet', table: 'tsfw', chain: 'ts-input' });
    expect(parseMonitorLine('add table ip other')).toEqual({ kind: 'change', summary: 'add table ip other', object: 'table', family: 'ip', table: 'other' });
    expect(parseMonitorLine('add chain inet tsfw tsfw-filter-input { type filter hook input priority -10; policy accept; }'))
      .toMatchObject({ summary: 'add chain inet tsfw tsfw-filter-input', chain: 'tsfw-filter-input' });
    expect(parseMonitorLine('add rule ip filter INPUT counter packets 0 bytes 0 jump ts-input comment "tsfw:jump"'))
      .toMatchObject({ object: 'rule', family: 'ip', table: 'filter', chain: 'INPUT' });
  });

  it('reads the transaction boundary: generation, pid and the process name', () => {
    expect(parseMonitorLine('# new generation 5 by process 12908 (nft)')).toEqual({ kind: 'commit', generation: 5, pid: 12908, process: 'nft' });
    expect(parseMonitorLine('# new generation 77 by process 3 (firewalld (python))')).toEqual({ kind: 'commit', generation: 77, pid: 3, process: 'firewalld (python)' });
  });

  it('recognises the lost-events line as a resync, and keeps other text apart', () => {
    expect(parseMonitorLine('# ERROR: We lost some netlink events!')).toEqual({ kind: 'lost-events' });
    expect(parseMonitorLine('hello').kind).toBe('other');
    expect(parseMonitorLine('{"add": {"table": {}}}').kind).toBe('other');
  });

  it('only changes to tsfw\'s tables and chains (or unattributable ones) are relevant', () => {
    const relevant = (line: string, s: typeof scope | typeof iptScope = scope) => isRelevant(parseMonitorLine(line), s);
    expect(relevant('add table ip other')).toBe(false);
    expect(relevant('delete table inet tsfw')).toBe(true);
    expect(relevant('add rule ip tsfw x accept')).toBe(false);
    expect(relevant('delete chain inet tsfw ts-input')).toBe(true);
    expect(relevant('add rule inet tsfw tsfw-filter-input jump ts-input')).toBe(true);
    expect(relevant('flush ruleset')).toBe(true);
    expect(relevant('# ERROR: We lost some netlink events!')).toBe(true);
    expect(relevant('hello')).toBe(false);
    // An admin's own chain, rule or set inside tsfw's table (the nodivert wiring) is not tsfw's.
    expect(relevant('add chain inet tsfw my-input { type filter hook input priority 0; policy accept; }')).toBe(false);
    expect(relevant('add rule inet tsfw my-input iifname "wan0" jump ts-input')).toBe(false);
    expect(relevant('add set inet tsfw admins { type ipv4_addr; }')).toBe(false);
    // iptables-nft: tsfw's chains and the built-ins holding its jumps; Docker's chains are not.
    expect(relevant('delete rule ip filter INPUT handle 4', iptScope)).toBe(true);
    expect(relevant('add rule ip filter ts-forward accept', iptScope)).toBe(true);
    expect(relevant('add rule ip filter DOCKER-USER return', iptScope)).toBe(false);
    expect(relevant('add rule ip mangle PREROUTING accept', iptScope)).toBe(false);
    // As iptables-nft 1.8.9 and nft 1.0.6 print them (captured): a new admin chain, an admin rule
    // by handle, an admin set's element; and a built-in chain iptables-nft re-declares (-A INPUT, -Z).
    expect(relevant('create chain ip filter ADMIN2', iptScope)).toBe(false);
    expect(relevant('delete rule ip filter ADMIN3 handle 7', iptScope)).toBe(false);
    expect(relevant('add element inet tsfw s { 192.0.2.1 }')).toBe(false);
    expect(relevant('delete rule inet tsfw mine handle 3')).toBe(false);
    expect(relevant('add chain ip filter INPUT { type filter hook input priority filter; policy accept; }', iptScope)).toBe(true);
    expect(relevant('add rule inet other c counter packets 0 bytes 0', iptScope)).toBe(false);
  });

  it('names the lines that may have changed Docker\'s iptables-nft chains (the Docker probe runs again)', () => {
    const touches = (line: string) => touchesIptFilter(parseMonitorLine(line));
    expect(touches('add chain ip filter DOCKER-USER')).toBe(true);
    expect(touches('delete rule ip6 filter DOCKER-USER handle 9')).toBe(true);
    expect(touches('delete table ip filter')).toBe(true);
    expect(touches('flush ruleset')).toBe(true);
    expect(touches('add rule ip nat POSTROUTING masquerade')).toBe(false);
    expect(touches('add rule inet other c counter')).toBe(false);
    expect(touches('add rule inet tsfw ts-input accept')).toBe(false);
    expect(touches('# new generation 4 by process 7 (nft)')).toBe(false);
  });

  it('names every line that may have changed tsfw\'s own table in any way (its reading is read again)', () => {
    const touches = (line: string) => touchesTables(parseMonitorLine(line), ['inet tsfw']);
    expect(touches('delete rule inet tsfw ts-input handle 7')).toBe(true);
    expect(touches('add rule inet tsfw my-input iifname "eth0" accept')).toBe(true); // an admin's chain: no pass, but read again
    expect(touches('add element inet tsfw s { 192.0.2.1 }')).toBe(true);
    expect(touches('delete table inet tsfw')).toBe(true);
    expect(touches('flush ruleset')).toBe(true);
    expect(touches('# ERROR: We lost some netlink events!')).toBe(true);
    expect(touches('something nft 9 prints')).toBe(true);
    expect(touches('add rule inet other c ip saddr 192.0.2.1 counter packets 0 bytes 0 accept # handle 4')).toBe(false);
    expect(touches('delete rule ip filter INPUT handle 9')).toBe(false);
    expect(touches('# new generation 4 by process 7 (nft)')).toBe(false);
  });
});
