import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Keeps the daemon's children from outliving it. A daemon killed with SIGKILL runs no exit hook,
 * so its `nft -j monitor` child (and any other long-running watcher) used to be left behind,
 * one more orphan per kill. Two layers:
 *
 * 1. Long-running children start through `setpriv --pdeathsig KILL` (util-linux): the kernel
 *    kills them when the daemon dies, however it dies.
 * 2. Every child carries `TSFW_DAEMON_CHILD=<tag>` in its environment (tag = network namespace +
 *    run dir), and a new daemon, once it knows it is the only one for that tag, kills whatever
 *    still carries it: the rare child that was being forked as its parent died, or one from a
 *    host without setpriv. Nothing without the tag is ever touched.
 */

/** The environment variable that marks a daemon's child. */
export const CHILD_TAG_VAR = 'TSFW_DAEMON_CHILD';

/** How one daemon's children are started. */
export interface ChildGuard {
  readonly tag: string;
  /** Environment entries for every child. */
  readonly env: Readonly<Record<string, string>>;
  /** The command line for a long-running child: under setpriv when it is available. */
  wrap(file: string, args: readonly string[]): readonly [string, readonly string[]];
}

/** Whether `setpriv --pdeathsig` works here (util-linux 2.33 or later); asked once per process. */
let pdeathsig: boolean | undefined;
function hasPdeathsig(): boolean {
  if (pdeathsig === undefined) {
    const probe = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5_000 });
    pdeathsig = probe.status === 0;
  }
  return pdeathsig;
}

/** The guard for a daemon with this tag. */
export function createChildGuard(tag: string, usePdeathsig: boolean = hasPdeathsig()): ChildGuard {
  return {
    tag,
    env: { [CHILD_TAG_VAR]: tag },
    wrap: (file, args) => (usePdeathsig ? ['setpriv', ['--pdeathsig', 'KILL', '--', file, ...args]] : [file, args]),
  };
}

/** The tag of a daemon: its network namespace and run dir (what one daemon owns). */
export function childTag(netns: string, runDir: string): string {
  return `${netns}:${runDir}`;
}

/** Pids of live processes (other than this one) whose environment carries `tag`. */
export function taggedProcesses(tag: string, procDir = '/proc'): number[] {
  const wanted = `${CHILD_TAG_VAR}=${tag}`;
  const found: number[] = [];
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`${procDir}/${entry}/environ`, 'latin1');
    } catch {
      continue; // gone meanwhile, or a kernel thread
    }
    if (environ.split('\0').includes(wanted)) found.push(Number(entry));
  }
  return found;
}

/** Kills stale children of an earlier daemon with this tag; returns their pids. */
export function killStaleChildren(tag: string, procDir = '/proc'): number[] {
  const killed: number[] = [];
  for (const pid of taggedProcesses(tag, procDir)) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return killed;
}
