// Foreign rules for the scale and churn benchmarks: what other programs leave on a busy host. Half
// in a native nftables table (inet admin: 10 chains and a base chain jumping to them), half in
// iptables-nft chains of filter (ADMIN-0..9) and nat (ADMIN-NAT), as Docker or ufw would; in
// layout `nft-only` all native, in layout `legacy` all in those chains of iptables-legacy. No two
// rules are alike (documentation-range sources, varied ports).
import { run } from './common.mjs';

export const CHAINS = 10;

function source(i) {
  const net = ['198.51.100', '203.0.113', '192.0.2'][i % 3];
  return `${net}.${(i >> 2) % 254 + 1}`;
}

/** Loads `count` foreign rules into the namespace. */
export function loadForeign(ns, count, layout = 'mixed') {
  if (layout === 'legacy') return loadIptables(ns, count, 'iptables-legacy-restore');
  const half = layout === 'nft-only' ? count : Math.floor(count / 2);
  if (half === 0) return;
  const nft = ['add table inet admin'];
  for (let c = 0; c < CHAINS; c++) nft.push(`add chain inet admin c${c}`);
  nft.push('add chain inet admin input { type filter hook input priority 0; policy accept; }');
  for (let c = 0; c < CHAINS; c++) nft.push(`add rule inet admin input jump c${c}`);
  for (let i = 0; i < half; i++) {
    nft.push(`add rule inet admin c${i % CHAINS} ip saddr ${source(i)} tcp dport ${1024 + (i % 50000)} counter accept comment "admin rule ${i}"`);
  }
  run(ns, ['nft', '-f', '-'], { input: `${nft.join('\n')}\n` });
  if (layout !== 'nft-only') loadIptables(ns, half, 'iptables-nft-restore');
}

function loadIptables(ns, count, restoreTool) {
  if (count === 0) return;
  const restore = ['*filter'];
  for (let c = 0; c < CHAINS; c++) restore.push(`:ADMIN-${c} - [0:0]`);
  const natRules = Math.floor(count / 10);
  for (let i = 0; i < count - natRules; i++) {
    restore.push(`-A ADMIN-${i % CHAINS} -s ${source(i)}/32 -p tcp -m tcp --dport ${1024 + (i % 50000)} -j ACCEPT`);
  }
  restore.push('COMMIT', '*nat', ':ADMIN-NAT - [0:0]');
  for (let i = 0; i < natRules; i++) restore.push(`-A ADMIN-NAT -d ${source(i)}/32 -p tcp -m tcp --dport ${1024 + i} -j DNAT --to-destination 192.0.2.10:80`);
  restore.push('COMMIT');
  run(ns, [restoreTool, '--noflush', '-w'], { input: `${restore.join('\n')}\n` });
}

/** Rules in the namespace that are not tsfw's (counted from the kernel, not assumed). */
export function foreignRules(ns, layout = 'mixed') {
  if (layout === 'legacy') {
    return ['iptables-legacy-save', 'ip6tables-legacy-save']
      .flatMap((tool) => run(ns, [tool]).stdout.split('\n'))
      .filter((l) => l.startsWith('-A ') && !/ts-|tsfw:/.test(l)).length;
  }
  const doc = JSON.parse(run(ns, ['nft', '-j', 'list', 'ruleset']).stdout);
  return doc.nftables.filter((o) => o.rule && o.rule.table !== 'tsfw' && !String(o.rule.comment ?? '').startsWith('tsfw:')).length;
}
