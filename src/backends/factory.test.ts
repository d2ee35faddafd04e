import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import { backendSpec, familiesPresent, retiredBy } from './factory.js';

const config = (yaml: string) => parseConfigText(yaml, 'test').config;

describe('backendSpec', () => {
  it('derives options, a rebuild key and the event scope from the config', () => {
    const nft = backendSpec('nftables', config('nftables: {table: fw}'));
    expect(nft).toMatchObject({ name: 'nftables', options: { table: 'fw' }, eventScope: { tables: ['inet fw'], builtins: [] } });
    const ipt = backendSpec('iptables-nft', config('families: [ip]'));
    expect(ipt).toMatchObject({ options: { flavour: 'nft', families: ['ip'] }, eventScope: { tables: ['ip filter', 'ip nat', 'ip mangle'], builtins: expect.arrayContaining(['INPUT', 'FORWARD', 'POSTROUTING']) } });
    expect(backendSpec('iptables-legacy', config('{}')).eventScope).toBeUndefined();
  });

  it('changes its key for every setting a backend is built from, and only those', () => {
    const key = (name: 'nftables' | 'iptables-nft', yaml: string) => backendSpec(name, config(yaml)).key;
    expect(key('iptables-nft', 'families: [ip]')).not.toBe(key('iptables-nft', 'families: [ip, ip6]'));
    expect(key('iptables-nft', '{}')).not.toBe(key('iptables-nft', 'jumpPosition: preserve'));
    expect(key('nftables', '{}')).not.toBe(key('nftables', 'nftables: {priorities: {input: 5}}'));
    expect(key('nftables', '{}')).toBe(key('nftables', 'families: [ip]'));
    expect(key('iptables-nft', '{}')).toBe(key('iptables-nft', 'mode: nodivert'));
  });
});

describe('retiredBy', () => {
  const spec = (name: 'nftables' | 'iptables-nft' | 'iptables-legacy', yaml = '{}') => backendSpec(name, config(yaml));

  it.each([
    ['same settings', spec('nftables'), spec('nftables'), undefined],
    ['new priorities: rewritten in place', spec('nftables'), spec('nftables', 'nftables: {priorities: {input: 5}}'), undefined],
    ['a family added', spec('iptables-nft', 'families: [ip]'), spec('iptables-nft'), undefined],
  ])('%s leaves nothing to remove', (_what, old, next, expected) => {
    expect(retiredBy(old, next)).toBe(expected);
  });

  it('another backend or nft table retires the old one whole', () => {
    const old = spec('iptables-nft');
    expect(retiredBy(old, spec('nftables'))).toBe(old);
    expect(retiredBy(spec('iptables-legacy'), old)?.name).toBe('iptables-legacy');
    const table = spec('nftables');
    expect(retiredBy(table, spec('nftables', 'nftables: {table: other}'))).toBe(table);
  });

  it('a dropped family retires exactly that family', () => {
    const retired = retiredBy(spec('iptables-nft'), spec('iptables-nft', 'families: [ip]'));
    expect(retired).toMatchObject({ name: 'iptables-nft', options: { families: ['ip6'] } });
  });
});

describe('familiesPresent', () => {
  it('iptables-legacy only where x_tables is loaded; the others everywhere', () => {
    const exists = (path: string) => path === '/p/ip_tables_names';
    expect(familiesPresent('iptables-legacy', { exists, procNet: '/p' })).toEqual(['ip']);
    expect(familiesPresent('iptables-nft', { exists, procNet: '/p' })).toEqual(['ip', 'ip6']);
  });
});
