import { readFileSync, readlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { readState, statePath } from './state.js';

/**
 * One daemon per network namespace and run dir. Two daemons on one ruleset fight each other, and
 * the second one's stop used to write `running: false` over the first one's state.json.
 *
 * The network namespace is claimed by binding the abstract Unix socket `@tsfw-daemon`: abstract
 * socket names are scoped to the network namespace, need no file (nothing to plant or leave
 * behind), and the kernel releases the name when the process dies, even by SIGKILL. A second
 * daemon gets EADDRINUSE, connects, and reads the first one's pid from it. A run dir shared
 * across namespaces is checked through its state.json (a live tsfw daemon elsewhere named there).
 */

/** The abstract socket name (Node: a path starting with NUL). */
export const SINGLETON_SOCKET = '\0tsfw-daemon';

/** Another daemon already owns this namespace or run dir (exit 1). */
export class DaemonRunningError extends Error {
  constructor(readonly pid: number | undefined, where: string) {
    super(`another tsfw daemon${pid === undefined ? '' : ` (pid ${pid})`} is already running ${where}: stop it first`);
    this.name = 'DaemonRunningError';
  }
}

/** The claim; released by `release` or when the process ends. */
export interface DaemonClaim {
  release(): Promise<void>;
}

/** This process's network namespace (`net:[inode]`). */
export function currentNetns(pid: number | 'self' = 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Claims the namespace and run dir, or throws DaemonRunningError naming the holder's pid. */
export async function claimDaemon(runDir: string, socketName: string = SINGLETON_SOCKET): Promise<DaemonClaim> {
  let server: Server | undefined;
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    try {
      server = await listen(socketName);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const pid = await holderPid(socketName);
      // Refused: the holder is exiting right now; try the name again.
      if (pid !== 'gone') throw new DaemonRunningError(pid, 'in this network namespace');
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
  if (!server) throw new DaemonRunningError(undefined, 'in this network namespace');
  const other = otherRunDirOwner(runDir);
  if (other !== undefined) {
    await close(server);
    throw new DaemonRunningError(other, `with run dir ${runDir} (in another network namespace)`);
  }
  const claimed = server;
  return { release: () => close(claimed) };
}

function listen(name: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(`${process.pid}\n`);
    });
    server.once('error', reject);
    server.listen(name, () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      // The claim must not keep the process alive once the daemon is done.
      server.unref();
      resolve(server);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The pid the holder reports; undefined when it does not say; 'gone' when nobody answers. */
function holderPid(name: string): Promise<number | undefined | 'gone'> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(name);
    const timer = setTimeout(() => finish(undefined), 2_000);
    const finish = (value: number | undefined | 'gone') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => {
      const pid = Number(text.trim());
      finish(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ECONNREFUSED' ? 'gone' : undefined));
  });
}

/** A live tsfw daemon in another namespace that state.json names as using this run dir. */
function otherRunDirOwner(runDir: string): number | undefined {
  const found = readState(statePath(runDir));
  if (!found?.alive || found.state.pid === process.pid) return undefined;
  const pid = found.state.pid;
  // A reused pid is not a daemon: it must be a tsfw process, in a namespace other than ours
  // (in ours the socket above would have been taken).
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  if (!cmdline.includes('tsfw') || !cmdline.split('\0').includes('daemon')) return undefined;
  const theirs = currentNetns(pid);
  return theirs !== undefined && theirs !== currentNetns() ? pid : undefined;
}
