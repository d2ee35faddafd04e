// Soak: `tsfw daemon` (nftables, event-driven, reconciling on a 1 s schedule) for 10 minutes in a
// throwaway namespace, nothing tampering, beside its peer: a bare idle node (`setInterval`), started
// the same way at the same time. RSS and CPU are read from /proc every 10 s.
//   node bench/soak.mjs [--seconds 600] [--backend nftables] [--also "--lite-mode"]   (make bench-soak)
// The daemon runs with the environment of systemd/tsfw.service (its NODE_OPTIONS); beside it the
// same daemon without that environment shows what the unit's setting buys, in the same run.
// --also NODE_ARGS runs one more daemon, started as `node NODE_ARGS bin/tsfw daemon`, alongside.
// Start = the sample after a 60 s warm-up (start-up and JIT are not steady state); end = the last.
// CPU counts the daemon, every child it has reaped (one nft per pass) and live children (nft monitor).
// Targets: RSS at 60 s ≤ 55 MB and ≤ 1.4× the bare node's, peak ≤ 60 MB, growth start → end
// ≤ 3 %, CPU ≤ 2 % of one core.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandLine, configFile, machine, run, saveResult, SHIPPED_DAEMON_ENV, tempDir, TSFW_BIN, verdict } from './lib/common.mjs';
import { sample, startIn } from './lib/proc.mjs';

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const seconds = Number(arg('--seconds', '600'));
const backend = arg('--backend', 'nftables');
const WARMUP_S = Math.min(60, seconds); // the "RSS after 60 s" sample
const EVERY_S = 10;
const also = arg('--also', undefined);
const config = configFile({ backend, reconcile: { schedule: '* * * * * *' }, log: { level: 'warn' } });

const runDir = tempDir('tsfw-bench-rundir-');
const UNSET = 'daemon without the unit\'s environment';
const procs = {
  daemon: startIn('tsfwb-soak', [TSFW_BIN, 'daemon', '-c', config], { TSFW_RUN_DIR: runDir, ...SHIPPED_DAEMON_ENV }),
  [UNSET]: startIn('tsfwb-soak0', [TSFW_BIN, 'daemon', '-c', config], { TSFW_RUN_DIR: tempDir('tsfw-bench-rundir-'), NODE_OPTIONS: '' }),
};
if (also) procs[`daemon ${also}`] = startIn('tsfwb-soak2', [...also.split(' '), TSFW_BIN, 'daemon', '-c', config], { TSFW_RUN_DIR: tempDir('tsfw-bench-rundir-') });
procs['bare node'] = startIn('tsfwb-bare', ['-e', 'setInterval(() => {}, 1000)']);
const t0 = Date.now();
await sleep(3000);
for (const [name, p] of Object.entries(procs)) {
  if (p.child.exitCode !== null) throw new Error(`${name} exited ${p.child.exitCode}:\n${p.log()}`);
  if (!/node/.test(readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8'))) throw new Error(`${name}: pid is not node`);
  if (name.startsWith('daemon')) run(p.ns, ['nft', 'list', 'table', 'inet', 'tsfw']);
}

console.log(`soak: tsfw daemon (${backend}, 1 s schedule, environment of the unit: ${JSON.stringify(SHIPPED_DAEMON_ENV)}) for ${seconds} s beside the same daemon without it and a bare idle node${also ? ` and a daemon under node ${also}` : ''}; sampling every ${EVERY_S} s, start after ${WARMUP_S} s`);
for (let t = EVERY_S; t <= seconds; t += EVERY_S) {
  await sleep(Math.max(0, t0 + t * 1000 - Date.now()));
  const line = [];
  for (const [name, p] of Object.entries(procs)) {
    if (p.child.exitCode !== null) throw new Error(`${name} exited ${p.child.exitCode} after ${t} s:\n${p.log()}`);
    const s = sample(p.child.pid, t0);
    p.samples.push(s);
    line.push(`${name} ${(s.rssKiB / 1024).toFixed(1)} MiB`);
  }
  console.log(`  t=${String(t).padStart(4)} s  RSS ${line.join(', ')}  (daemon's children ${(procs.daemon.samples.at(-1).childRssKiB / 1024).toFixed(1)} MiB, daemon CPU total ${procs.daemon.samples.at(-1).cpuS.toFixed(2)} s)`);
}
const passes = (() => {
  try {
    return JSON.parse(readFileSync(`${runDir}/state.json`, 'utf8'));
  } catch {
    return undefined;
  }
})();
for (const p of Object.values(procs)) p.child.kill('SIGTERM');

const mb = (kib) => Number(((kib * 1024) / 1e6).toFixed(1));
const windowPct = (w) => ((w.at(-1).cpuS - w[0].cpuS) / (w.at(-1).t - w[0].t)) * 100;
function summary(samples) {
  const start = samples.find((s) => s.t >= WARMUP_S) ?? samples[0];
  const end = samples.at(-1);
  const peakKiB = Math.max(...samples.map((s) => s.rssKiB));
  return {
    start, end, peakKiB,
    startMB: mb(start.rssKiB), endMB: mb(end.rssKiB), peakMB: mb(peakKiB),
    growthPct: Number((((end.rssKiB - start.rssKiB) / start.rssKiB) * 100).toFixed(2)),
    cpuPct: Number((((end.cpuS - start.cpuS) / (end.t - start.t)) * 100).toFixed(2)),
    cpuFirstMinutePct: windowPct(samples.filter((s) => s.t <= start.t + 60)),
    cpuLastMinutePct: windowPct(samples.filter((s) => s.t >= end.t - 60)),
  };
}
const results = Object.fromEntries(Object.entries(procs).map(([name, p]) => [name, summary(p.samples)]));
const bare = results['bare node'];
console.log('\n  process                       RSS at 60 s     end        peak       growth    CPU (start → end)');
for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(28)} ${`${r.startMB} MB`.padStart(9)} ${`${r.endMB} MB`.padStart(10)} ${`${r.peakMB} MB`.padStart(10)} ${`${r.growthPct} %`.padStart(9)} ${`${r.cpuPct} %`.padStart(9)}   (× bare at 60 s: ${(r.start.rssKiB / bare.start.rssKiB).toFixed(2)})`);
}
console.log(`\ntargets (daemon as started by systemd/the image: bin/tsfw daemon; MB = 10^6 bytes):`);
const targetsFor = (r) => [
  verdict('RSS at 60 s', r.startMB, 55, ' MB'),
  verdict('RSS at 60 s ÷ bare idle node', Number((r.start.rssKiB / bare.start.rssKiB).toFixed(2)), 1.4),
  verdict('peak RSS', r.peakMB, 60, ' MB'),
  verdict(`RSS growth ${Math.round(r.start.t)} s → ${Math.round(r.end.t)} s`, r.growthPct, 3, ' %'),
  verdict('CPU, start → end', r.cpuPct, 2, ' % of a core'),
];
const targets = targetsFor(results.daemon);
console.log(`\nthe same for the ${UNSET} (the peer of the unit's setting):`);
const unsetTargets = targetsFor(results[UNSET]);
const alsoTargets = also ? (console.log(`\nthe same for the daemon under node ${also}:`), targetsFor(results[`daemon ${also}`])) : undefined;
saveResult('soak', {
  bench: 'soak', command: commandLine(), machine: machine(), backend, seconds, warmupSeconds: WARMUP_S, shippedEnv: SHIPPED_DAEMON_ENV, also, unsetTargets,
  results, daemonState: passes ? { passes: passes.passes ?? passes.counts ?? undefined } : undefined,
  samples: Object.fromEntries(Object.entries(procs).map(([name, p]) => [name, p.samples])), targets, alsoTargets,
});
