import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import { createProcessRunner } from '../../src/exec/runner.js';
import type { CommandRunner } from '../../src/exec/runner.js';
import type { Netns } from './netns.js';

/**
 * The real firewalld (Debian's package) inside a test network namespace and a private mount
 * namespace of its own: a tmpfs on /run (so the system bus socket, /run/firewalld and the D-Bus
 * pid file are private), a private copy of /etc/firewalld bind-mounted over the real one, and a
 * private system bus (`dbus-daemon --system`, Debian's own system.conf and policy files) whose
 * socket is /run/dbus/system_bus_socket inside that /run, where firewalld, firewall-cmd and tsfw
 * look by default. Nothing here touches the host's own bus, firewalld or /etc.
 *
 * A holder process (`sleep infinity`) owns the mount namespace; every command runs through
 * `nsenter --target HOLDER --mount --net`, so it sees the same /run, /etc/firewalld and network.
 */

export interface Firewalld {
  /** The holder's pid: `nsenter -t PID -m -n` enters firewalld's world. */
  readonly holder: number;
  /** The private copy of /etc/firewalld, as the host sees it (for comparisons only). */
  readonly etcDir: string;
  /** firewalld's own log lines (console target), for failure messages. */
  readonly log: string[];
  /** Runs a command in firewalld's mount + network namespaces. */
  exec(file: string, args: readonly string[], options?: { reject?: boolean; input?: string }): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  /** `firewall-cmd ARGS`; throws on a non-zero exit. */
  cmd(...args: string[]): Promise<string>;
  /** The production command runner, entering firewalld's namespaces. */
  readonly runner: CommandRunner;
  /** An argv prefix that runs the rest inside firewalld's mount namespace (for `ip netns exec`). */
  readonly wrap: readonly string[];
  /** An argv prefix that runs the rest in firewalld's mount + network namespaces (cli.ts tsfwVia). */
  readonly enter: readonly string[];
  /** Stops firewalld (SIGTERM: it removes its table) and starts it again; resolves once running. */
  restart(): Promise<void>;
  /** Stops firewalld, the bus and the holder, and removes the private files. Never throws. */
  destroy(): Promise<void>;
}

const HOLDER_SCRIPT = `set -e
mount -t tmpfs -o mode=0755 tsfw-fw-run /run
mkdir -p /run/dbus
mount --bind "$1" /etc/firewalld
echo ready
exec sleep infinity`;

/** Polls `probe` every 100 ms until it is true or `ms` have passed. */
async function until(what: string, probe: () => Promise<boolean>, ms: number, detail: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the bus and firewalld (default config) inside `ns`; resolves once `firewall-cmd --state` says running. */
export async function startFirewalld(ns: Netns): Promise<Firewalld> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-fw-'));
  const etcDir = join(dir, 'etc-firewalld');
  cpSync('/etc/firewalld', etcDir, { recursive: true });
  const holderChild: ResultPromise = execa('ip', ['netns', 'exec', ns.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', HOLDER_SCRIPT, 'holder', etcDir], { reject: false, buffer: false });
  const children: ResultPromise[] = [holderChild];
  const log: string[] = [];
  const enter = (file: string, args: readonly string[]) => ['--target', String(holderChild.pid), '--mount', '--net', file, ...args];
  const spawnLogged = (file: string, args: readonly string[]): ResultPromise => {
    const child = execa('nsenter', enter(file, args), { reject: false, buffer: false, all: true, env: { LC_ALL: 'C' } });
    if (child.all) createInterface({ input: child.all }).on('line', (line) => log.push(`${file}: ${line}`));
    children.push(child);
    return child;
  };
  let firewalld: ResultPromise | undefined;
  const api: Firewalld = {
    holder: holderChild.pid!,
    etcDir,
    log,
    async exec(file, args, options = {}) {
      const r = await execa('nsenter', enter(file, args), { reject: options.reject ?? true, input: options.input, env: { LC_ALL: 'C' } });
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1 };
    },
    async cmd(...args) {
      return (await api.exec('firewall-cmd', args)).stdout;
    },
    runner: {
      run: (file, args, options) => createProcessRunner().run('nsenter', enter(file, args), options),
    },
    wrap: ['nsenter', '--target', String(holderChild.pid), '--mount'],
    enter: ['nsenter', '--target', String(holderChild.pid), '--mount', '--net'],
    async restart() {
      await stopFirewalld();
      await startDaemon();
    },
    async destroy() {
      await stopFirewalld().catch(() => {});
      for (const child of children.reverse()) {
        child.kill('SIGKILL');
        await child;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const running = async () => (await api.exec('firewall-cmd', ['--state'], { reject: false })).stdout.trim() === 'running';
  const startDaemon = async () => {
    firewalld = spawnLogged('firewalld', ['--nofork', '--nopid', '--log-target', 'console']);
    await until('firewalld running', running, 60_000, () => log.join('\n'));
  };
  const stopFirewalld = async () => {
    const current = firewalld;
    firewalld = undefined;
    if (!current) return;
    current.kill('SIGTERM');
    await current;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      holderChild.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      void holderChild.then((r) => reject(new Error(`firewalld namespace holder exited: ${String(r.stderr ?? '')}`)));
    });
    spawnLogged('dbus-daemon', ['--system', '--nofork', '--nopidfile']);
    await until('the private system bus', async () => (await api.exec('test', ['-S', '/run/dbus/system_bus_socket'], { reject: false })).exitCode === 0, 10_000, () => log.join('\n'));
    await startDaemon();
  } catch (error) {
    await api.destroy();
    throw error;
  }
  return api;
}
