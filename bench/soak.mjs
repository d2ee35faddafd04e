// Soak: `tsfw daemon` (nftables, event-driven, reconciling on a 1 s schedule) for 10 minutes in a
// throwaway namespace, nothing tampering. RSS and CPU are read from /proc every 10 s.
//   node bench/soak.mjs [--seconds 600] [--backend nftables]       (make bench-soak)
// Start = the sample after a 60 s warm-up (start-up and JIT are not steady state); end = the last.
// CPU counts the daemon, every child it has reaped (one nft per pass) and live children (nft monitor).
// Targets (issue 6): RSS ≤ 80 MB, RSS growth start → end ≤ 5 %, CPU ≤ 2 % of one core.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { commandLine, configFile, createNetns, machine, run, saveResult, tempDir, TSFW_BIN, verdict } from './lib/common.mjs';

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const seconds = Number(arg('--seconds', '600'));
const backend = arg('--backend', 'nftables');
const WARMUP_S = Math.min(60, Math.floor(seconds / 10));
const EVERY_S = 10;
const TICKS = 100; // USER_HZ on Linux

function procStat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** Live descendants of pid (the nft monitor, a pass's nft that has not exited yet). */
function children(pid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (procStat(entry).ppid === pid) out.push(Number(entry), ...children(Number(entry)));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function sample(pid, t0) {
  const s = procStat(pid);
  let liveChildren = 0;
  let childRss = 0;
  for (const c of children(pid)) {
    try {
      liveChildren += procStat(c).self;
      childRss += rssKiB(c);
    } catch {
      // exited
    }
  }
  return { t: (Date.now() - t0) / 1000, cpuS: (s.self + s.reaped + liveChildren) / TICKS, daemonCpuS: s.self / TICKS, rssKiB: rssKiB(pid), childRssKiB: childRss };
}

const ns = createNetns('tsfwb-soak');
const config = configFile({ backend, reconcile: { schedule: '* * * * * *' }, log: { level: 'warn' } });
const runDir = tempDir('tsfw-bench-rundir-');
// `ip netns exec` execs the command in place, so the child's pid is the daemon's.
const daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, TSFW_BIN, 'daemon', '-c', config], {
  env: { ...process.env, LC_ALL: 'C', TSFW_RUN_DIR: runDir },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let log = '';
daemon.stderr.on('data', (d) => {
  log = (log + d).slice(-20000);
});
const t0 = Date.now();
await sleep(3000);
if (daemon.exitCode !== null) throw new Error(`daemon exited ${daemon.exitCode}:\n${log}`);
if (!/node/.test(readFileSync(`/proc/${daemon.pid}/cmdline`, 'utf8'))) throw new Error('daemon pid is not node');
run(ns, ['nft', 'list', 'table', 'inet', 'tsfw']);

console.log(`soak: tsfw daemon (${backend}, 1 s schedule) for ${seconds} s in ${ns}; sampling every ${EVERY_S} s, start after ${WARMUP_S} s`);
const samples = [];
for (let t = EVERY_S; t <= seconds; t += EVERY_S) {
  await sleep(Math.max(0, t0 + t * 1000 - Date.now()));
  if (daemon.exitCode !== null) throw new Error(`daemon exited ${daemon.exitCode} after ${t} s:\n${log}`);
  const s = sample(daemon.pid, t0);
  samples.push(s);
  console.log(`  t=${String(Math.round(s.t)).padStart(4)} s  RSS ${(s.rssKiB / 1024).toFixed(1).padStart(6)} MiB  (children ${(s.childRssKiB / 1024).toFixed(1)} MiB)  CPU total ${s.cpuS.toFixed(2)} s`);
}
const passes = (() => {
  try {
    return JSON.parse(readFileSync(`${runDir}/state.json`, 'utf8'));
  } catch {
    return undefined;
  }
})();
daemon.kill('SIGTERM');

const start = samples.find((s) => s.t >= WARMUP_S) ?? samples[0];
const end = samples.at(-1);
const cpuPct = ((end.cpuS - start.cpuS) / (end.t - start.t)) * 100;
const growthPct = ((end.rssKiB - start.rssKiB) / start.rssKiB) * 100;
const peakRssMB = Math.max(...samples.map((s) => s.rssKiB)) / 1024;
const firstMinute = samples.filter((s) => s.t <= start.t + 60);
const lastMinute = samples.filter((s) => s.t >= end.t - 60);
const windowPct = (w) => ((w.at(-1).cpuS - w[0].cpuS) / (w.at(-1).t - w[0].t)) * 100;
console.log(`\n  start (t=${Math.round(start.t)} s): RSS ${(start.rssKiB / 1024).toFixed(1)} MiB   end (t=${Math.round(end.t)} s): RSS ${(end.rssKiB / 1024).toFixed(1)} MiB   peak ${peakRssMB.toFixed(1)} MiB`);
console.log(`  CPU start→end ${cpuPct.toFixed(2)} % of a core (first minute ${windowPct(firstMinute).toFixed(2)} %, last minute ${windowPct(lastMinute).toFixed(2)} %)`);
const targets = [
  verdict('RSS at end (MB = 10^6 bytes)', Number(((end.rssKiB * 1024) / 1e6).toFixed(1)), 80, ' MB'),
  verdict('RSS growth start → end', Number(growthPct.toFixed(2)), 5, ' %'),
  verdict('CPU, start → end', Number(cpuPct.toFixed(2)), 2, ' % of a core'),
];
saveResult('soak', {
  bench: 'soak', command: commandLine(), machine: machine(), backend, seconds, warmupSeconds: WARMUP_S,
  start, end, peakRssMB, cpuPct, growthPct, cpuFirstMinutePct: windowPct(firstMinute), cpuLastMinutePct: windowPct(lastMinute),
  daemonState: passes ? { passes: passes.passes ?? passes.counts ?? undefined } : undefined,
  samples, targets,
});
