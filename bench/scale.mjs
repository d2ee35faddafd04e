// Scale: a converged no-op `tsfw reconcile` on a host holding 0, 1,000 and 20,000 foreign rules
// in other tables and chains. Half of them live in a native nftables table (inet admin), half in
// iptables-nft chains of the filter and nat tables (what Docker or ufw would leave), so both the
// nftables backend and the iptables-nft backend meet rules that are not theirs.
//   node bench/scale.mjs [--runs N] [--backends nftables,iptables-nft,iptables-legacy]    (make bench-scale)
// Targets (issues 6 and 13): nftables and iptables-nft at 20,000 foreign rules ≤ 1.3× the empty
// host (median wall time). Layouts of the foreign rules: `mixed` (half native nft, half
// iptables-nft), for the nftables backend also `nft-only`, for iptables-legacy `legacy` (all in
// legacy chains). Beside the CLI, the reads a reconcile makes are timed alone, to show where time
// goes: tsfw's own read (the commands recorded from a real no-op reconcile, run one after
// another), iptables-nft's old whole-table read, one legacy chain alone, and the leftover check.
import { commandLine, configFile, createNetns, deleteNetns, machine, measureIn, ms, ratio, recordCommands, saveResult, stats, TSFW_BIN, tsfw, verdict } from './lib/common.mjs';
import { foreignRules, loadForeign } from './lib/foreign.mjs';

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const runs = Number(arg('--runs', '30'));
const backends = arg('--backends', 'nftables,iptables-nft,iptables-legacy').split(',');
const SIZES = [0, 1000, 20000];
const ROUNDS = 3;

/** The tools whose runs make up a backend's own read (recorded from a real no-op reconcile). */
const READ_TOOLS = {
  'iptables-nft': ['nft', 'iptables-nft', 'ip6tables-nft', 'iptables-nft-save', 'ip6tables-nft-save'],
  'iptables-legacy': ['iptables-legacy-save', 'ip6tables-legacy-save'],
};
const isOwnRead = {
  // The Docker integration's DOCKER-USER probe is not the backend's read (the reconcile figure
  // includes it; on the mixed layout, whose DOCKER-USER chain is native nft, it exits 1).
  'iptables-nft': (argv) => argv.join(' ').startsWith('nft -j list chains') || (/^ip6?tables-nft/.test(argv[0]) && !argv.includes('DOCKER-USER')),
  'iptables-legacy': (argv) => /^ip6?tables-legacy-save$/.test(argv[0]),
};
/** The whole-table read (what the iptables-nft backend read before it read per chain), for comparison. */
const WHOLE_TABLES = {
  'iptables-nft': ['iptables-nft-save', 'ip6tables-nft-save'].flatMap((b) => ['filter', 'nat', 'mangle'].map((t) => [b, '-c', '-t', t])),
  // iptables-legacy's tools: one chain alone (what a per-chain read would cost per chain).
  'iptables-legacy': [['iptables-legacy', '-w', '-v', '-S', 'ts-input']],
};
const LEFTOVER_SCAN = {
  nftables: [...WHOLE_TABLES['iptables-nft'], ['iptables-legacy-save', '-c'], ['ip6tables-legacy-save', '-c']],
  'iptables-nft': [['nft', '--version'], ['nft', '-j', 'list', 'table', 'inet', 'tsfw'], ['iptables-legacy-save', '-c'], ['ip6tables-legacy-save', '-c']],
  'iptables-legacy': [['nft', '--version'], ['nft', '-j', 'list', 'table', 'inet', 'tsfw']],
};
const LAYOUTS = { nftables: ['mixed', 'nft-only'], 'iptables-nft': ['mixed'], 'iptables-legacy': ['legacy'] };
const COMPARE = { 'iptables-nft': 'whole-table read', 'iptables-legacy': 'one chain (-S)' };

const results = [];
for (const backend of backends) for (const layout of LAYOUTS[backend]) {
  const config = configFile({ backend });
  const hosts = SIZES.map((size) => {
    const ns = createNetns('tsfwb-scale');
    loadForeign(ns, size, layout);
    tsfw(ns, ['apply', '-c', config, '--no-save']);
    const check = JSON.parse(tsfw(ns, ['reconcile', '-c', config, '--json']).stdout);
    if (check.changed !== false) throw new Error(`reconcile is not a no-op with ${size} foreign rules`);
    // nftables reads its table with `nft -j -f -` and the list command on stdin: the same read as this one.
    const own = backend === 'nftables'
      ? [['nft', '-j', 'list', 'table', 'inet', 'tsfw']]
      : recordCommands(ns, [process.execPath, TSFW_BIN, 'reconcile', '-c', config], READ_TOOLS[backend]).filter(isOwnRead[backend]);
    return { size, ns, foreign: foreignRules(ns, layout), ownArgv: own, wall: [], cpu: [], own: [], whole: [], scan: [] };
  });
  console.log(`\nscale on ${backend}, foreign rules ${layout}: ${ROUNDS} rounds × ${Math.ceil(runs / ROUNDS)} runs per host (+2 warm-up per round)`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const host of hosts) {
      const raw = measureIn(host.ns, {
        runs: Math.ceil(runs / ROUNDS),
        warmup: 2,
        scenarios: [
          { name: 'reconcile', steps: [{ argv: ['node', TSFW_BIN, 'reconcile', '-c', config] }] },
          { name: 'own read', steps: host.ownArgv.map((argv) => ({ argv })) },
          ...(WHOLE_TABLES[backend] ? [{ name: 'whole', steps: WHOLE_TABLES[backend].map((argv) => ({ argv })) }] : []),
          { name: 'leftover scan', steps: LEFTOVER_SCAN[backend].map((argv) => ({ argv, allowFail: true })) },
        ],
      });
      host.wall.push(...raw.reconcile.wall);
      host.cpu.push(...raw.reconcile.cpu);
      host.own.push(...raw['own read'].wall);
      if (raw.whole) host.whole.push(...raw.whole.wall);
      host.scan.push(...raw['leftover scan'].wall);
    }
  }
  const empty = stats(hosts[0].wall);
  console.log(`  foreign rules (counted)   reconcile median   p90 wall   mean CPU   vs empty   own read (processes)${COMPARE[backend] ? `   ${COMPARE[backend]}` : ''}   leftover scan`);
  const rows = hosts.map((h) => {
    const wall = stats(h.wall);
    const cpu = stats(h.cpu);
    const own = stats(h.own);
    const whole = h.whole.length > 0 ? stats(h.whole) : undefined;
    const scan = stats(h.scan);
    const r = ratio(wall.median, empty.median);
    console.log(`  ${String(h.size).padStart(6)} (${String(h.foreign).padStart(6)})   ${ms(wall.median).padStart(16)} ${ms(wall.p90).padStart(10)} ${ms(cpu.mean).padStart(10)} ${`${r}×`.padStart(9)} ${`${ms(own.median)} (${h.ownArgv.length})`.padStart(20)}${whole ? ms(whole.median).padStart(COMPARE[backend].length + 3) : ''} ${ms(scan.median).padStart(15)}`);
    return { size: h.size, foreignCounted: h.foreign, wall, cpu, ratio: r, ownRead: own, ownReadCommands: h.ownArgv.map((a) => a.join(' ')), ...(whole ? { [COMPARE[backend]]: whole } : {}), leftoverScan: scan };
  });
  const targets = backend === 'iptables-legacy' ? [] : [verdict(`${backend} no-op reconcile, 20,000 foreign rules (${layout}) vs none`, rows.at(-1).ratio, 1.3)];
  results.push({ backend, layout, rows, targets });
  for (const h of hosts) deleteNetns(h.ns);
}
saveResult('scale', { bench: 'scale', command: commandLine(), machine: machine(), runs, results });
