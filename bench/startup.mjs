// CLI start-up: `tsfw --version` and a converged no-op `tsfw reconcile` (nftables, table already
// applied, inside a throwaway namespace) against a bare `node -e 0`, all timed in one run.
//   node bench/startup.mjs [--runs N]          (make bench-startup)
// Targets: --version ≤ 1.5×, no-op reconcile ≤ 1.5× of node -e 0 (median wall time, same run).
import { cliForm, commandLine, configFile, createNetns, machine, measureIn, ms, ratio, saveResult, stats, TSFW_BIN, tsfw, verdict } from './lib/common.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 40;

const ns = createNetns('tsfwb-start');
const config = configFile({ backend: 'nftables' });
tsfw(ns, ['apply', '-c', config, '--no-save']);
const check = JSON.parse(tsfw(ns, ['reconcile', '-c', config, '--json']).stdout);
if (check.changed !== false) throw new Error('reconcile is not a no-op after apply: the benchmark would measure a repair');

const TSFW = ['node', TSFW_BIN];
const scenarios = [
  { name: 'node -e 0', steps: [{ argv: ['node', '-e', '0'] }] },
  { name: 'tsfw --version', steps: [{ argv: [...TSFW, '--version'] }] },
  { name: 'tsfw reconcile (no-op)', steps: [{ argv: [...TSFW, 'reconcile', '-c', config] }] },
  // The same pass from the per-module build, to show what the bundle and its code cache buy.
  { name: 'tsfw reconcile (no-op, TSFW_NO_BUNDLE=1)', steps: [{ argv: [...TSFW, 'reconcile', '-c', config], env: { TSFW_NO_BUNDLE: '1' } }] },
];
console.log(`startup: ${runs} interleaved runs each (+3 warm-up) in namespace ${ns}`);
const raw = measureIn(ns, { runs, warmup: 3, scenarios });

const base = stats(raw['node -e 0'].wall);
const baseCpu = stats(raw['node -e 0'].cpu);
const rows = scenarios.map(({ name }) => {
  const wall = stats(raw[name].wall);
  const cpu = stats(raw[name].cpu);
  return { name, wall, cpu, ratio: ratio(wall.median, base.median), cpuRatio: ratio(cpu.mean, baseCpu.mean) };
});
console.log('\n  command                                     median wall   p90 wall   ratio   mean CPU   CPU ratio');
for (const r of rows) {
  console.log(`  ${r.name.padEnd(42)} ${ms(r.wall.median).padStart(11)} ${ms(r.wall.p90).padStart(10)} ${`${r.ratio}×`.padStart(7)} ${ms(r.cpu.mean).padStart(10)} ${`${r.cpuRatio}×`.padStart(10)}`);
}
const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
console.log('\ntargets (median wall time against node -e 0, same run):');
const targets = [
  verdict('tsfw --version', byName['tsfw --version'].ratio, 1.5),
  verdict('tsfw reconcile, converged no-op', byName['tsfw reconcile (no-op)'].ratio, 1.5),
];
saveResult('startup', { bench: 'startup', command: commandLine(), machine: machine(), cli: cliForm(), runs, rows, targets });
