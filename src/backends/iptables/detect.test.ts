import { describe, expect, it } from 'vitest';
import { ExecError } from '../../exec/errors.js';
import type { CommandRunner } from '../../exec/runner.js';
import { detectBackend, scanSave } from './detect.js';

/** Save outputs per binary; a binary left out is "not installed". Records what was run. */
function saves(outputs: Record<string, string>) {
  const ran: string[] = [];
  const runner: CommandRunner = {
    async run(file) {
      ran.push(file);
      const stdout = outputs[file];
      if (stdout === undefined) throw new ExecError('not-found', file, undefined, `${file}: not installed`);
      return { stdout, stderr: '', exitCode: 0 };
    },
  };
  return { runner, ran };
}

const RULES = (n: number) => `*filter\n:INPUT ACCEPT [0:0]\n${'-A INPUT -j ACCEPT\n'.repeat(n)}COMMIT\n`;
const HINT = '*mangle\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n';
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
    const { runner, ran } = saves({ 'iptables-nft-save': RULES(2), 'ip6tables-nft-save': '' });
    const d = await detectBackend({ runner, exists: noProc, procNet: '/fake/net' });
    expect(ran).toEqual(['iptables-nft-save', 'ip6tables-nft-save']);
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
    expect(scanSave('*filter\n:KUBE-IPTABLES-HINT - [0:0]\n[1:2] -A INPUT -j X\n-A INPUT -j Y\nCOMMIT\n')).toEqual({ rules: 2, hints: [] });
  });
});
