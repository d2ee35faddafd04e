// Churn: `tsfw daemon` beside other programs' changes, each daemon started at the same moment as its
// peer (the same daemon on a host without the churn) in fresh namespaces. Four scenarios:
//   iptables-nft: 20,000 foreign rules (bench/lib/foreign.mjs, mixed), another program committing
//     5 transactions/s in its iptables-nft chains: daemon CPU over the window; then, churn going on,
//     the INPUT jump deleted 8 times 2.5 s apart: time until it is back. Peer: the same 20,000
//     rules, no churn.
//   admin chain: nftables, mode nodivert, an admin's base chain inside inet tsfw changing 50×/s
//     (the nodivert wiring); passes and CPU. Peer: the same wiring, unchanged.
//   foreign table: nftables, 1 s schedule, another program committing 20 transactions/s in its own
//     table; passes by cause, writes, CPU. Peer: the same daemon, nothing committing.
//   eight tampers: nftables, default repair budget, eight different tampers ~1.25 s apart (two of
//     them in two steps); backoff episodes, error-level log lines, the longest time any of them
//     stayed unrepaired.
//   node bench/churn.mjs [--seconds 30] [--only NAME,...]   (make bench-churn; part of make bench)
// Churners are single processes: `nft -i` takes one transaction per line; iptables-nft runs as one
// process per change (what other programs do), started on a timer. Passes are counted from the
// daemon's own debug log lines, writes from state.json's repair counter.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandLine, configFile, createNetns, machine, ms, run, saveResult, SHIPPED_DAEMON_ENV, stats, tempDir, TSFW_BIN, verdict } from './lib/common.mjs';
import { fingerprint as tableFingerprint } from './lib/fingerprint.mjs';
import { loadForeign } from './lib/foreign.mjs';
import { sample, startIn } from './lib/proc.mjs';

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const seconds = Number(arg('--seconds', '30'));
const only = arg('--only', 'iptables-nft,admin-chain,foreign-table,eight-tampers').split(',');

/** A daemon (with the unit's environment) in its own namespace and run dir; `state()` reads its state.json. */
function startDaemon(prefix, config, ns) {
  const runDir = tempDir('tsfw-bench-rundir-');
  const p = startIn(prefix, [TSFW_BIN, 'daemon', '-c', config], { TSFW_RUN_DIR: runDir, ...SHIPPED_DAEMON_ENV }, ns);
  const state = () => {
    try {
      return JSON.parse(readFileSync(join(runDir, 'state.json'), 'utf8'));
    } catch {
      return undefined;
    }
  };
  return { ...p, runDir, state };
}

async function waitFor(what, probe, ms = 30000, daemons = []) {
  const end = performance.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    for (const d of daemons) if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode} while waiting for ${what}:\n${d.log()}`);
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Passes by cause from the daemon's log lines since index `from`. */
function passesByCause(d, from) {
  const byCause = {};
  for (const l of d.lines.slice(from)) {
    if (!['reconcile pass: nothing to do', 'netfilter drift repaired', 'reconcile pass failed'].includes(l.msg)) continue;
    byCause[l.cause] = (byCause[l.cause] ?? 0) + 1;
  }
  return byCause;
}

/** A window over several daemons: CPU % of a core (daemon + children), passes, writes, error lines. */
function openWindow(daemons) {
  const t0 = Date.now();
  const start = daemons.map((d) => ({ s: sample(d.child.pid, t0), lines: d.lines.length, repairs: d.state()?.repairs.total ?? 0, episodes: d.state()?.backoff.episodes ?? 0 }));
  return () => daemons.map((d, i) => {
    const end = sample(d.child.pid, t0);
    const state = d.state();
    const passes = passesByCause(d, start[i].lines);
    return {
      seconds: Number(end.t.toFixed(1)),
      cpuPct: Number((((end.cpuS - start[i].s.cpuS) / end.t) * 100).toFixed(2)),
      passes: Object.values(passes).reduce((a, b) => a + b, 0),
      passesByCause: passes,
      writes: (state?.repairs.total ?? 0) - start[i].repairs,
      backoffEpisodes: (state?.backoff.episodes ?? 0) - start[i].episodes,
      errorLines: d.lines.slice(start[i].lines).filter((l) => l.level >= 50).map((l) => `${l.msg}${l.err?.message ? `: ${l.err.message.split('\n')[0]}` : ''}${l.detail ? ` (${l.detail})` : ''}`),
    };
  });
}

/**
 * `nft -i` in the namespace: each line written is one transaction. Its HOME is a directory that
 * does not exist: nft -i would otherwise save every line in the host's ~/.nft.history.
 */
function nftShell(ns) {
  const home = join(tempDir('tsfw-bench-nfthome-'), 'absent');
  const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-i'], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, HOME: home } });
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-2000);
  });
  return { send: (line) => child.stdin.write(`${line}\n`), stop: () => child.kill('SIGTERM'), err: () => err };
}

/** Runs `step(i)` `perSecond` times a second on a timer until stopped; counts what it did. */
function every(perSecond, step) {
  let i = 0;
  const timer = setInterval(() => step(i++), 1000 / perSecond);
  const t0 = performance.now();
  return { stop: () => (clearInterval(timer), { count: i, rate: Number((i / ((performance.now() - t0) / 1000)).toFixed(1)) }) };
}

const report = (name, w) => console.log(`  ${name.padEnd(34)} CPU ${`${w.cpuPct} %`.padStart(8)}  passes ${String(w.passes).padStart(5)} ${JSON.stringify(w.passesByCause)}  writes ${w.writes}  backoff ${w.backoffEpisodes}  error lines ${w.errorLines.length}`);
const results = {};

if (only.includes('iptables-nft')) {
  console.log(`\niptables-nft, 20,000 foreign rules, another program committing 5 transactions/s, ${seconds} s (default 10 s schedule):`);
  const config = configFile({ backend: 'iptables-nft', log: { level: 'debug' } });
  const busy = startDaemon('tsfwb-churn-ipt', config, (() => { const ns = createNetns('tsfwb-churn-ipt'); loadForeign(ns, 20000); return ns; })());
  const peer = startDaemon('tsfwb-churn-iptp', config, (() => { const ns = createNetns('tsfwb-churn-iptp'); loadForeign(ns, 20000); return ns; })());
  const jumped = (d) => run(d.ns, ['iptables-nft', '-w', '-S', 'INPUT']).stdout.includes('tsfw:jump');
  await waitFor('both daemons ready', () => busy.state()?.ready && peer.state()?.ready && jumped(busy), 60000, [busy, peer]);
  await sleep(2000);
  // Another program: one iptables-nft process per change in its own chain, added and deleted in turn.
  const churn = every(5, (i) => {
    const op = i % 2 === 0 ? '-A' : '-D';
    spawn('ip', ['netns', 'exec', busy.ns, 'iptables-nft', '-w', op, 'ADMIN-0', '-s', '192.0.2.200/32', '-j', 'ACCEPT'], { stdio: 'ignore' });
  });
  // First the churn alone (CPU), then the churn with a deleted INPUT jump every 2.5 s (repair time).
  const close = openWindow([busy, peer]);
  await sleep(seconds * 1000);
  const [w, wp] = close();
  const closeTampers = openWindow([busy]);
  const repairs = [];
  for (let i = 0; i < 8; i++) {
    await sleep(2500);
    run(busy.ns, ['iptables-nft', '-w', '-D', 'INPUT', '-m', 'comment', '--comment', 'tsfw:jump', '-j', 'ts-input']);
    const t0 = performance.now();
    await waitFor('the INPUT jump back', () => jumped(busy), 60000, [busy]);
    repairs.push(performance.now() - t0);
  }
  const [wt] = closeTampers();
  const done = churn.stop();
  const repair = stats(repairs);
  report('beside the churn', w);
  report('peer: same rules, no churn', wp);
  report('beside the churn, 8 tampers', wt);
  console.log(`  churn: ${done.count} changes, ${done.rate}/s; deleted INPUT jump back after: median ${ms(repair.median)}, max ${ms(repair.max)} (${repairs.length} tampers; poll: iptables-nft -S INPUT)`);
  const targets = [verdict('deleted INPUT jump repaired within (max)', Number(repair.max.toFixed(1)), 1000, ' ms'), verdict('daemon CPU beside the churn', w.cpuPct, 5, ' % of a core')];
  results['iptables-nft'] = { churn: done, repair, repairsMs: repairs, daemon: w, peer: wp, withTampers: wt, targets };
  for (const d of [busy, peer]) d.child.kill('SIGTERM');
}

if (only.includes('admin-chain')) {
  console.log(`\nnftables, mode nodivert, an admin's base chain inside inet tsfw changing 50×/s, ${seconds} s (default 10 s schedule):`);
  const config = configFile({ backend: 'nftables', mode: 'nodivert', log: { level: 'debug' } });
  const busy = startDaemon('tsfwb-churn-adm', config, createNetns('tsfwb-churn-adm'));
  const peer = startDaemon('tsfwb-churn-admp', config, createNetns('tsfwb-churn-admp'));
  await waitFor('both daemons ready', () => busy.state()?.ready && peer.state()?.ready, 30000, [busy, peer]);
  for (const d of [busy, peer]) run(d.ns, ['nft', 'add chain inet tsfw my-input { type filter hook input priority 0; policy accept; }']);
  await sleep(1000);
  const shell = nftShell(busy.ns);
  const churn = every(50, (i) => shell.send(i % 2 === 0 ? 'add rule inet tsfw my-input iifname "wan0" jump ts-input' : 'flush chain inet tsfw my-input'));
  const close = openWindow([busy, peer]);
  await sleep(seconds * 1000);
  const [w, wp] = close();
  const done = churn.stop();
  shell.stop();
  report('beside the admin chain churn', w);
  report('peer: wiring unchanged', wp);
  console.log(`  churn: ${done.count} transactions, ${done.rate}/s${shell.err() ? ` (nft: ${shell.err().trim().split('\n')[0]})` : ''}`);
  const targets = [verdict(`event passes in ${w.seconds} s (objects tsfw does not own cause no pass)`, w.passesByCause.event ?? 0, 0, '')];
  results['admin-chain'] = { churn: done, daemon: w, peer: wp, targets };
  for (const d of [busy, peer]) d.child.kill('SIGTERM');
}

if (only.includes('foreign-table')) {
  console.log(`\nnftables, 1 s schedule, another program committing 20 transactions/s in its own table, ${seconds} s:`);
  const config = configFile({ backend: 'nftables', reconcile: { schedule: '* * * * * *' }, log: { level: 'debug' } });
  const busy = startDaemon('tsfwb-churn-tbl', config, createNetns('tsfwb-churn-tbl'));
  const peer = startDaemon('tsfwb-churn-tblp', config, createNetns('tsfwb-churn-tblp'));
  await waitFor('both daemons ready', () => busy.state()?.ready && peer.state()?.ready, 30000, [busy, peer]);
  run(busy.ns, ['nft', 'add table inet other; add chain inet other c']);
  await sleep(1000);
  const shell = nftShell(busy.ns);
  const churn = every(20, (i) => shell.send(i % 2 === 0 ? 'add rule inet other c ip saddr 192.0.2.1 counter accept' : 'flush chain inet other c'));
  const close = openWindow([busy, peer]);
  await sleep(seconds * 1000);
  const [w, wp] = close();
  const done = churn.stop();
  shell.stop();
  report('beside the foreign table churn', w);
  report('peer: nothing committing', wp);
  console.log(`  churn: ${done.count} transactions, ${done.rate}/s`);
  const targets = [verdict('daemon CPU (1 s schedule)', w.cpuPct, 2, ' % of a core'), verdict('writes', w.writes, 0, ''), verdict('event passes', w.passesByCause.event ?? 0, 0, '')];
  results['foreign-table'] = { churn: done, daemon: w, peer: wp, targets };
  for (const d of [busy, peer]) d.child.kill('SIGTERM');
}

if (only.includes('eight-tampers')) {
  console.log('\nnftables, eight different tampers ~1.25 s apart, default repair budget:');
  const config = configFile({ backend: 'nftables', log: { level: 'debug' } });
  const d = startDaemon('tsfwb-churn-8', config, createNetns('tsfwb-churn-8'));
  await waitFor('the daemon ready', () => d.state()?.ready, 30000, [d]);
  const fingerprint = () => tableFingerprint('nftables', ['ip', 'netns', 'exec', d.ns]);
  await sleep(1000);
  const golden = fingerprint();
  // A later step may find tsfw already repaired the first (that race is the point): it may fail.
  const nft = (...cmds) => () => cmds.forEach((c, i) => run(d.ns, ['nft', c], { allowFail: i > 0 }));
  const handle = (chain) => /# handle (\d+)\n/.exec(run(d.ns, ['nft', '-a', 'list', 'chain', 'inet', 'tsfw', chain]).stdout.split('\n').slice(2).join('\n'))?.[1];
  const tampers = [
    ['delete a rule of ts-input', () => run(d.ns, ['nft', 'delete', 'rule', 'inet', 'tsfw', 'ts-input', 'handle', handle('ts-input')])],
    ['flush ts-forward', nft('flush chain inet tsfw ts-forward')],
    ['delete base chain tsfw-filter-input', nft('delete chain inet tsfw tsfw-filter-input')],
    ['foreign rule into ts-input', nft('insert rule inet tsfw ts-input ip saddr 192.0.2.99 accept')],
    ['two steps: flush ts-postrouting, then delete its base chain', nft('flush chain inet tsfw ts-postrouting', 'delete chain inet tsfw tsfw-nat-postrouting')],
    ['delete base chain tsfw-mangle-output', nft('delete chain inet tsfw tsfw-mangle-output')],
    ['two steps: base chain re-added at another priority', nft('delete chain inet tsfw tsfw-filter-forward', 'add chain inet tsfw tsfw-filter-forward { type filter hook forward priority 5; policy accept; }')],
    ['delete the table', nft('delete table inet tsfw')],
  ];
  const close = openWindow([d]);
  const gaps = [];
  for (const [kind, tamper] of tampers) {
    const t0 = performance.now();
    tamper();
    const tEnd = performance.now();
    await waitFor(`repair of ${kind}`, () => fingerprint() === golden, 30000, [d]);
    gaps.push({ kind, ms: Number((performance.now() - tEnd).toFixed(1)), tamperMs: Number((tEnd - t0).toFixed(1)) });
    await sleep(Math.max(0, 1250 - (performance.now() - t0)));
  }
  const [w] = close();
  const max = Math.max(...gaps.map((g) => g.ms));
  report('eight tampers', w);
  for (const g of gaps) console.log(`    ${g.kind.padEnd(58)} repaired after ${ms(g.ms).padStart(9)}`);
  const targets = [verdict('backoff episodes', w.backoffEpisodes, 0, ''), verdict('error-level log lines', w.errorLines.length, 0, ''), verdict('longest gap (tamper exit → identical read-back)', max, 250, ' ms')];
  results['eight-tampers'] = { gaps, maxGapMs: max, daemon: w, targets };
  d.child.kill('SIGTERM');
}

saveResult('churn', { bench: 'churn', command: commandLine(), machine: machine(), seconds, results });
