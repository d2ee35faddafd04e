import { describe, expect, it } from 'vitest';
import { isRelevant, parseMonitorLine } from './monitor-events.js';

const scope = { tables: ['inet tsfw'] };

describe('nft -j monitor lines', () => {
  it('summarises rule, chain and table changes', () => {
    const rule = parseMonitorLine('{"delete": {"rule": {"family": "inet", "table": "tsfw", "chain": "ts-input", "handle": 7, "expr": []}}}');
    expect(rule).toEqual({ kind: 'change', summary: 'delete rule inet tsfw ts-input', family: 'inet', table: 'tsfw' });
    const table = parseMonitorLine('{"add": {"table": {"family": "ip", "name": "other", "handle": 2}}}');
    expect(table).toEqual({ kind: 'change', summary: 'add table ip other', family: 'ip', table: 'other' });
    const chain = parseMonitorLine('{"add": {"chain": {"family": "inet", "table": "tsfw", "name": "tsfw-filter-input", "hook": "input"}}}');
    expect(chain).toMatchObject({ summary: 'add chain inet tsfw tsfw-filter-input' });
  });

  it('recognises the lost-events line as a resync', () => {
    expect(parseMonitorLine('# ERROR: We lost some netlink events!')).toEqual({ kind: 'lost-events' });
  });

  it('keeps other text and broken JSON apart from changes', () => {
    expect(parseMonitorLine('# new generation 5 by process 12908 (nft)').kind).toBe('other');
    expect(parseMonitorLine('{"add": ').kind).toBe('other');
  });

  it('only changes in tsfw tables (or unattributable ones) are relevant', () => {
    expect(isRelevant(parseMonitorLine('{"add": {"table": {"family": "ip", "name": "other"}}}'), scope)).toBe(false);
    expect(isRelevant(parseMonitorLine('{"delete": {"table": {"family": "inet", "name": "tsfw"}}}'), scope)).toBe(true);
    expect(isRelevant(parseMonitorLine('{"add": {"rule": {"family": "ip", "table": "tsfw", "chain": "x"}}}'), scope)).toBe(false);
    expect(isRelevant(parseMonitorLine('{"flush": {"ruleset": null}}'), scope)).toBe(true);
    expect(isRelevant(parseMonitorLine('# ERROR: We lost some netlink events!'), scope)).toBe(true);
    expect(isRelevant(parseMonitorLine('hello'), scope)).toBe(false);
  });
});
