import { describe, expect, it } from 'vitest';
import { ExecError } from '../../exec/errors.js';
import type { CommandRunner } from '../../exec/runner.js';
import { parseNftListing } from '../nftables/listing.js';
import { detectBackend, scanSave } from './detect.js';
import { classifyXtablesTable } from './xtables-evidence.js';

/** Outputs per binary (or per `binary arg…` line); a binary left out is "not installed". Records what was run. */
function saves(outputs: Record<string, string>) {
  const ran: string[] = [];
  const runner: CommandRunner = {
    async run(file, args) {
      ran.push(file);
      const stdout = outputs[[file, ...args].join(' ')] ?? outputs[file];
      if (stdout === undefined) throw new ExecError('not-found', file, undefined, `${file}: not installed`);
      return { stdout, stderr: '', exitCode: 0 };
    },
  };
  return { runner, ran };
}

const RULES = (n: number) => `*filter\n:INPUT ACCEPT [0:0]\n${'-A INPUT -j ACCEPT\n'.repeat(n)}COMMIT\n`;
const HINT = '*mangle\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n';
/** `nft -j list table ip filter` as nft 1.0.6 prints it (captured), around the given chain and rules. */
const listing = (chain: string, rules: unknown[][]) => JSON.stringify({ nftables: [
  { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
  { table: { family: 'ip', name: 'filter', handle: 2 } },
  { chain: { family: 'ip', table: 'filter', name: chain, handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
  ...rules.map((expr, i) => ({ rule: { family: 'ip', table: 'filter', chain, handle: i + 2, expr } })),
] });
const TCP22 = { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } };
const COUNTER = { counter: { packets: 0, bytes: 0 } };
/** `iptables-nft -A INPUT -p tcp --dport 22 -j DROP` (a counter, no xt expression) and `nft add rule ip filter INPUT tcp dport 22 drop`. */
const IPT_NFT_FILTER = listing('INPUT', [[TCP22, COUNTER, { drop: null }], [TCP22, COUNTER, { drop: null }]]);
const NATIVE_FILTER = listing('INPUT', [[TCP22, { drop: null }]]);
const XT_FILTER = listing('INPUT', [[{ xt: { type: 'match', name: 'comment' } }, COUNTER, { accept: null }]]);
const withProc = (path: string) => path.endsWith('ip_tables_names') || path.endsWith('ip6_tables_names');
const noProc = () => false;

describe('backend auto detection', () => {
  it('Kubernetes hint chains win over rule counts', async () => {
    const { runner } = saves({ 'iptables-nft-save': HINT, 'ip6tables-nft-save': '', 'iptables-legacy-save': RULES(50), 'ip6tables-legacy-save': '' });
    const d = await detectBackend({ runner, exists: withProc });
    expect(d.backend).toBe('iptables-nft');
    expect(d.reason).toBe('auto: Kubernetes uses iptables-nft');
    expect(d.evidence[0]).toBe('Kubernetes hint chain KUBE-IPTABLES-HINT (ip), KUBE-KUBELET-CANARY (ip) in the iptables-nft mangle table');
  });

  it('picks the flavour that holds rules, with counts as evidence', async () => {
    const { runner } = saves({ 'iptables-nft-save': '', 'ip6tables-nft-save': '', 'iptables-legacy-save': RULES(3), 'ip6tables-legacy-save': RULES(1) });
    const d = await detectBackend({ runner, exists: withProc });
    expect(d).toEqual({
      backend: 'iptables-legacy',
      reason: 'auto: iptables-legacy already holds rules',
      evidence: ['iptables-nft: 0 rule(s) (ip 0, ip6 0)', 'iptables-legacy: 4 rule(s) (ip 3, ip6 1)'],
      warnings: [],
    });
  });

  it('never probes legacy where /proc/net/ip_tables_names is absent', async () => {
    const { runner, ran } = saves({ 'iptables-nft-save': RULES(2), 'ip6tables-nft-save': '', 'nft -j list table ip filter': IPT_NFT_FILTER });
    const d = await detectBackend({ runner, exists: noProc, procNet: '/fake/net' });
    expect(ran).toEqual(['iptables-nft-save', 'nft', 'ip6tables-nft-save']);
    expect(d.backend).toBe('iptables-nft');
    expect(d.evidence).toContain('iptables-legacy: not probed (/fake/net/ip_tables_names absent)');
  });

  it('warns when both flavours hold rules and still picks exactly one', async () => {
    const { runner } = saves({ 'iptables-nft-save': RULES(2), 'ip6tables-nft-save': '', 'iptables-legacy-save': RULES(5), 'ip6tables-legacy-save': '' });
    const d = await detectBackend({ runner, exists: withProc });
    expect(d.backend).toBe('iptables-legacy');
    expect(d.warnings).toEqual(['both iptables flavours hold rules (iptables-nft 2, iptables-legacy 5); using iptables-legacy only; tsfw never writes both']);
  });

  it('falls back to nftables when no flavour holds rules, and notes missing tools as evidence', async () => {
    const { runner } = saves({});
    const d = await detectBackend({ runner, exists: noProc });
    expect(d.backend).toBe('nftables');
    expect(d.evidence).toContain('iptables-nft-save: not installed');
  });

  it('scanSave counts rules with and without counters and finds hints only in mangle', () => {
    expect(scanSave('*filter\n:KUBE-IPTABLES-HINT - [0:0]\n[1:2] -A INPUT -j X\n-A INPUT -j Y\nCOMMIT\n*nat\n-A POSTROUTING -j Z\nCOMMIT\n'))
      .toEqual({ rules: 3, hints: [], tables: { filter: 2, nat: 1 } });
  });

  it('a native nft table called ip filter is not evidence for iptables-nft, and the evidence says why', async () => {
    const { runner } = saves({ 'iptables-nft-save': RULES(1), 'ip6tables-nft-save': '', 'nft -j list table ip filter': NATIVE_FILTER });
    const d = await detectBackend({ runner, exists: noProc });
    expect(d.backend).toBe('nftables');
    expect(d.reason).toBe('auto: no iptables rules in either flavour');
    expect(d.evidence).toContain('iptables-nft: 0 rule(s) (ip 0, ip6 0)');
    expect(d.evidence).toContain('ip filter: native nft table (no xtables expression, rule without a counter in chain INPUT): not evidence for iptables-nft');
  });

  it('tables written by iptables-nft count: by its rule shape, or by an xtables expression', async () => {
    for (const [table, why] of [[IPT_NFT_FILTER, 'ip filter: iptables-nft\'s rule shape (built-in chain names, a counter in every rule)'],
      [XT_FILTER, 'ip filter: xtables expression comment in chain INPUT (written by iptables-nft)']] as const) {
      const { runner } = saves({ 'iptables-nft-save': RULES(2), 'ip6tables-nft-save': '', 'nft -j list table ip filter': table });
      const d = await detectBackend({ runner, exists: noProc });
      expect(d.backend).toBe('iptables-nft');
      expect(d.evidence).toContain(why);
    }
  });
});

describe('classifyXtablesTable', () => {
  const table = (text: string) => parseNftListing(text)[0]!;
  it('a base chain that is not iptables\' built-in for its hook marks a native table even with counters', () => {
    expect(classifyXtablesTable(table(listing('input', [[TCP22, COUNTER, { drop: null }]])))).toEqual({
      iptablesNft: false,
      why: 'ip filter: native nft table (no xtables expression, base chain input is not iptables\' built-in for hook input): not evidence for iptables-nft',
    });
  });
  it('an empty table is no evidence', () => {
    expect(classifyXtablesTable(table(listing('INPUT', []))).iptablesNft).toBe(false);
  });
});
