import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { FALLBACK_PORT } from './facts.js';
import type { Fact } from './facts.js';
import { parseProcNetUdp, socketInode } from './proc-net.js';

/**
 * `ports: auto`: the UDP ports a process named `tailscaled` has bound in tsfw's own network
 * namespace. Its socket inodes (from /proc/<pid>/fd) are looked up in this process's
 * /proc/net/udp and udp6, which list only the sockets of tsfw's namespace, so a tailscaled in
 * another namespace never counts. Only unconnected, non-loopback sockets are WireGuard ports.
 */

/** The few /proc reads discovery needs; injected so unit tests give a fake /proc. */
export interface ProcFs {
  readdir(path: string): string[];
  readFile(path: string): string;
  readlink(path: string): string;
}

/** The real /proc. */
export const nodeProcFs: ProcFs = {
  readdir: (path) => readdirSync(path),
  readFile: (path) => readFileSync(path, 'utf8'),
  readlink: (path) => readlinkSync(path),
};

/** Each read may race with a process exiting: a vanished entry is simply skipped. */
function attempt<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** Socket inodes held by every process whose comm is `tailscaled`, and how many such processes. */
function tailscaledInodes(fs: ProcFs, proc: string): { pids: string[]; inodes: Set<string> } {
  const pids = attempt(() => fs.readdir(proc), []).filter((p) => /^\d+$/.test(p))
    .filter((pid) => attempt(() => fs.readFile(`${proc}/${pid}/comm`).trim(), '') === 'tailscaled');
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of attempt(() => fs.readdir(`${proc}/${pid}/fd`), [])) {
      const inode = socketInode(attempt(() => fs.readlink(`${proc}/${pid}/fd/${fd}`), ''));
      if (inode) inodes.add(inode);
    }
  }
  return { pids, inodes };
}

/** This namespace's UDP sockets (/proc/self/net/udp and udp6). */
function namespaceSockets(fs: ProcFs, proc: string) {
  return ['udp', 'udp6'].flatMap((t) => parseProcNetUdp(attempt(() => fs.readFile(`${proc}/self/net/${t}`), '')));
}

/** The ports tailscaled holds among `sockets`, or the fallback with a note saying why. */
function portsAmong(fs: ProcFs, proc: string, sockets: ReturnType<typeof parseProcNetUdp>): Fact<number> {
  const { pids, inodes } = tailscaledInodes(fs, proc);
  const fallback = (note: string): Fact<number> => ({ values: [FALLBACK_PORT], source: 'fallback', note });
  if (pids.length === 0) return fallback('no tailscaled process running in this network namespace');
  const ports = [...new Set(sockets.filter((s) => s.listening && !s.loopback && inodes.has(s.inode)).map((s) => s.port))].sort((a, b) => a - b);
  if (ports.length === 0) return fallback(`tailscaled (pid ${pids.join(', ')}) holds no UDP socket in this network namespace`);
  return { values: ports, source: 'tailscaled', note: `pid ${pids.join(', ')}` };
}

/** The discovered ports, or the fallback with a note saying why. */
export function discoverPorts(fs: ProcFs = nodeProcFs, proc = '/proc'): Fact<number> {
  return portsAmong(fs, proc, namespaceSockets(fs, proc));
}

/** The longest the daemon reuses an answer while the namespace's UDP sockets stay the same. */
export const PORTS_REUSE_MAX_AGE_MS = 30_000;

/**
 * `ports: auto` for the daemon, which asks every pass. Finding tailscaled means reading the comm
 * of every process on the host; the answer can only change when a UDP socket of this namespace
 * appears or goes (tailscaled starting, restarting or moving to another port opens a new one), so
 * it is reused while the namespace's sockets (inode, port) are the same ones, for at most
 * `maxAgeMs` (a process renamed to tailscaled while holding an old socket). Clock injected.
 */
export function createPortsProbe(now: () => number, fs: ProcFs = nodeProcFs, proc = '/proc', maxAgeMs = PORTS_REUSE_MAX_AGE_MS): () => Fact<number> {
  let last: { readonly key: string; readonly at: number; readonly fact: Fact<number> } | undefined;
  return () => {
    const sockets = namespaceSockets(fs, proc);
    const key = sockets.map((s) => `${s.inode}:${s.port}:${s.listening ? 1 : 0}`).sort().join(' ');
    if (last && last.key === key && now() - last.at < maxAgeMs) return last.fact;
    const fact = portsAmong(fs, proc, sockets);
    last = { key, at: now(), fact };
    return fact;
  };
}
