// Processes of the daemon benchmarks (soak, churn): RSS and CPU from /proc, including the children
// a daemon has reaped (one nft per pass) and the ones still alive (nft monitor), and a starter that
// runs a program inside a fresh namespace with its stderr kept.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createNetns } from './common.mjs';

const TICKS = 100; // USER_HZ on Linux

export function procStat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

export function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** Live descendants of pid (the nft monitor, a pass's nft that has not exited yet). */
export function children(pid) {
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

/** RSS and CPU seconds (the process, its reaped and its live children) at seconds since t0. */
export function sample(pid, t0) {
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

/**
 * Starts `node ARGV` inside a fresh namespace (or `ns`); `ip netns exec` execs in place, so the
 * child's pid is node's. stderr is kept: the last 20,000 characters, and every JSON line parsed.
 */
export function startIn(prefix, argv, env = {}, ns = createNetns(prefix)) {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...argv], {
    env: { ...process.env, LC_ALL: 'C', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  let partial = '';
  const lines = [];
  child.stderr.on('data', (d) => {
    log = (log + d).slice(-20000);
    const parts = (partial + d).split('\n');
    partial = parts.pop();
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        // not a JSON log line
      }
    }
  });
  return { ns, child, log: () => log, lines, samples: [] };
}
