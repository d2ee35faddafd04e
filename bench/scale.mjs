// Scale: a converged no-op `tsfw reconcile` on a host holding 0, 1,000 and 20,000 foreign rules
// in other tables and chains. Half of them live in a native nftables table (inet admin), half in
// iptables-nft chains of the filter and nat tables (what Docker or ufw would leave), so both the
// nftables backend and the iptables-nft backend meet rules that are not theirs.
//   node bench/scale.mjs [--runs N] [--backends nftables,iptables-nft]    (make bench-scale)
// Target (issue 6): nftables at 20,000 foreign rules ≤ 1.3× the empty host (median wall time).
// Two layouts of the foreign rules: `mixed` (half native nft, half iptables-nft) and, for the
// nftables backend, `nft-only`. Beside the CLI, the reads a reconcile makes are timed alone, to
// show where time goes: tsfw's own table read, and the leftover check of the other backends.
import { commandLine, configFile, createNetns, deleteNetns, machine, measureIn, ms, ratio, run, saveResult, stats, TSFW_BIN, tsfw, verdict } from './lib/common.mjs';

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const runs = Number(arg('--runs', '30'));
const backends = arg('--backends', 'nftables,iptables-nft').split(',');
const SIZES = [0, 1000, 20000];
const CHAINS = 10;
const ROUNDS = 3;

/** Documentation-range sources and varied ports, so no two foreign rules are alike. */
function source(i) {
  const net = ['198.51.100', '203.0.113', '192.0.2'][i % 3];
  return `${net}.${(i >> 2) % 254 + 1}`;
}

function loadForeign(ns, count, layout) {
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
  if (layout === 'nft-only') return;
  const restore = ['*filter'];
  for (let c = 0; c < CHAINS; c++) restore.push(`:ADMIN-${c} - [0:0]`);
  const natRules = Math.floor(half / 10);
  for (let i = 0; i < half - natRules; i++) {
    restore.push(`-A ADMIN-${i % CHAINS} -s ${source(i)}/32 -p tcp -m tcp --dport ${1024 + (i % 50000)} -j ACCEPT`);
  }
  restore.push('COMMIT', '*nat', ':ADMIN-NAT - [0:0]');
  for (let i = 0; i < natRules; i++) restore.push(`-A ADMIN-NAT -d ${source(i)}/32 -p tcp -m tcp --dport ${1024 + i} -j DNAT --to-destination 192.0.2.10:80`);
  restore.push('COMMIT');
  run(ns, ['iptables-nft-restore', '--noflush', '-w'], { input: `${restore.join('\n')}\n` });
}

/** Rules in the namespace that are not tsfw's (counted from the kernel, not assumed). */
function foreignRules(ns) {
  const doc = JSON.parse(run(ns, ['nft', '-j', 'list', 'ruleset']).stdout);
  return doc.nftables.filter((o) => o.rule && o.rule.table !== 'tsfw' && !String(o.rule.comment ?? '').startsWith('tsfw:')).length;
}

/** The processes a no-op reconcile starts besides node (seen with strace -f -e execve). */
const OWN_READ = {
  nftables: [['nft', '-j', 'list', 'table', 'inet', 'tsfw']],
  'iptables-nft': ['iptables-nft-save', 'ip6tables-nft-save'].flatMap((b) => [[b, '-c', '-t', 'filter'], [b, '-c', '-t', 'nat']]),
};
const LEFTOVER_SCAN = {
  nftables: [...OWN_READ['iptables-nft'], ['iptables-legacy-save', '-c'], ['ip6tables-legacy-save', '-c']],
  'iptables-nft': [['nft', '--version'], ['nft', '-j', 'list', 'table', 'inet', 'tsfw'], ['iptables-legacy-save', '-c'], ['ip6tables-legacy-save', '-c']],
};

const results = [];
for (const backend of backends) for (const layout of backend === 'nftables' ? ['mixed', 'nft-only'] : ['mixed']) {
  const config = configFile({ backend });
  const hosts = SIZES.map((size) => {
    const ns = createNetns('tsfwb-scale');
    loadForeign(ns, size, layout);
    tsfw(ns, ['apply', '-c', config, '--no-save']);
    const check = JSON.parse(tsfw(ns, ['reconcile', '-c', config, '--json']).stdout);
    if (check.changed !== false) throw new Error(`reconcile is not a no-op with ${size} foreign rules`);
    return { size, ns, foreign: foreignRules(ns), wall: [], cpu: [], own: [], scan: [] };
  });
  console.log(`\nscale on ${backend}, foreign rules ${layout}: ${ROUNDS} rounds × ${Math.ceil(runs / ROUNDS)} runs per host (+2 warm-up per round)`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const host of hosts) {
      const raw = measureIn(host.ns, {
        runs: Math.ceil(runs / ROUNDS),
        warmup: 2,
        scenarios: [
          { name: 'reconcile', steps: [{ argv: ['node', TSFW_BIN, 'reconcile', '-c', config] }] },
          { name: 'own read', steps: OWN_READ[backend].map((argv) => ({ argv })) },
          { name: 'leftover scan', steps: LEFTOVER_SCAN[backend].map((argv) => ({ argv, allowFail: true })) },
        ],
      });
      host.wall.push(...raw.reconcile.wall);
      host.cpu.push(...raw.reconcile.cpu);
      host.own.push(...raw['own read'].wall);
      host.scan.push(...raw['leftover scan'].wall);
    }
  }
  const empty = stats(hosts[0].wall);
  console.log('  foreign rules (counted)   reconcile median   p90 wall   mean CPU   vs empty   own read   leftover scan');
  const rows = hosts.map((h) => {
    const wall = stats(h.wall);
    const cpu = stats(h.cpu);
    const own = stats(h.own);
    const scan = stats(h.scan);
    const r = ratio(wall.median, empty.median);
    console.log(`  ${String(h.size).padStart(6)} (${String(h.foreign).padStart(6)})   ${ms(wall.median).padStart(16)} ${ms(wall.p90).padStart(10)} ${ms(cpu.mean).padStart(10)} ${`${r}×`.padStart(9)} ${ms(own.median).padStart(10)} ${ms(scan.median).padStart(15)}`);
    return { size: h.size, foreignCounted: h.foreign, wall, cpu, ratio: r, ownRead: own, leftoverScan: scan };
  });
  const targets = backend === 'nftables' ? [verdict(`nftables no-op reconcile, 20,000 foreign rules (${layout}) vs none`, rows.at(-1).ratio, 1.3)] : [];
  results.push({ backend, layout, rows, targets });
  for (const h of hosts) deleteNetns(h.ns);
}
saveResult('scale', { bench: 'scale', command: commandLine(), machine: machine(), runs, results });
