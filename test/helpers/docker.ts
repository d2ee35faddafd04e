import { request } from 'node:http';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import type { Netns } from './netns.js';

/**
 * The real dockerd (docker.io 20.10 from apt) inside a test network namespace, never the host's:
 * entered with `nsenter --net` (not `ip netns exec`, which remounts /sys and hides the cgroup
 * mounts dockerd needs), in a private mount namespace with a tmpfs on /run (so it reaches no host
 * socket, not even the system D-Bus), and with its own data root, exec root, socket, pid file
 * and config file in a temp directory. Its bridge uses a documentation range.
 *
 * `flavour: 'legacy'` puts iptables-legacy first on dockerd's PATH (dockerd runs whatever
 * `iptables` it finds), so its chains land in the legacy tables instead of iptables-nft's.
 */

/** The bridge address dockerd gets (`--bip`): a documentation range, unused by the test router. */
export const DOCKER_BIP = '203.0.113.1/24';

export interface DockerdOptions {
  readonly flavour?: 'nft' | 'legacy';
}

export interface Dockerd {
  readonly dir: string;
  readonly socket: string;
  /** The running dockerd's pid, if one runs. */
  pid(): number | undefined;
  /** Everything dockerd (and its containerd) wrote to stdout/stderr so far. */
  log(): string;
  /** Starts dockerd and waits until its socket answers (after its iptables set-up) and FORWARD jumps to DOCKER-USER. */
  start(): Promise<void>;
  /** SIGTERM, then waits until dockerd and its containerd are gone. Docker leaves its chains behind. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Kills whatever is left (dockerd, containerd, shims) and removes the temp directory. */
  destroy(): Promise<void>;
}

const LEGACY_TOOLS = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];

async function until(what: string, probe: () => Promise<boolean> | boolean, ms: number, log: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`dockerd: timed out waiting for ${what}\n${log().split('\n').slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes started for this dockerd (their command line names its private directory). */
function processesOf(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids.filter((p) => p !== process.pid);
}

/** Prepares (does not start) a dockerd inside `ns`. */
export function createDockerd(ns: Netns, options: DockerdOptions = {}): Dockerd {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const flavour = options.flavour ?? 'nft';
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  let path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
  if (flavour === 'legacy') {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of LEGACY_TOOLS) symlinkSync(`/usr/sbin/${tool.replace('tables', 'tables-legacy')}`, join(bin, tool));
    path = `${bin}:${path}`;
  }
  const save = flavour === 'legacy' ? 'iptables-legacy-save' : 'iptables-nft-save';
  let child: ResultPromise | undefined;
  let output = '';

  // The API's /_ping over the socket (node's http client: no docker CLI needed).
  const answers = () => new Promise<boolean>((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
  // dockerd answers on its socket only after its iptables set-up; the jump is checked as well. Not
  // its position: a running tsfw daemon may already have put its own jump back above it.
  const jumpsIn = async () => {
    const r = await ns.exec(save, ['-t', 'filter'], { reject: false });
    return r.stdout.split('\n').includes('-A FORWARD -j DOCKER-USER');
  };

  const dockerd: Dockerd = {
    dir,
    socket,
    pid: () => (child?.pid !== undefined && alive(child.pid) ? child.pid : undefined),
    log: () => output,
    async start() {
      if (dockerd.pid() !== undefined) throw new Error('dockerd: already running');
      const script = [
        'mount -t tmpfs tmpfs /run',
        `exec dockerd --config-file ${dir}/daemon.json --data-root ${dir}/data --exec-root ${dir}/exec -H unix://${socket} --pidfile ${dir}/docker.pid --storage-driver=vfs --bip ${DOCKER_BIP}`,
      ].join(' && ');
      // nsenter and unshare exec without forking and sh execs dockerd: the child's pid is dockerd's.
      child = execa('nsenter', [`--net=/run/netns/${ns.name}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script], {
        reject: false,
        buffer: false,
        all: true,
        env: { PATH: path, LC_ALL: 'C' },
        extendEnv: false,
      });
      child.all?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = child.then(() => true);
      let gone = false;
      void exited.then(() => {
        gone = true;
      });
      await until('its socket and its FORWARD jumps', async () => {
        if (gone) throw new Error(`dockerd exited during start-up\n${output.split('\n').slice(-15).join('\n')}`);
        return await answers() && await jumpsIn();
      }, 30_000, () => output);
    },
    async stop() {
      const pid = dockerd.pid();
      if (pid === undefined) return;
      process.kill(pid, 'SIGTERM');
      await until('dockerd to exit', () => !alive(pid), 20_000, () => output);
      await child;
      await until('containerd to exit', () => processesOf(dir).length === 0, 10_000, () => output);
    },
    async restart() {
      await dockerd.stop();
      await dockerd.start();
    },
    async destroy() {
      for (const pid of processesOf(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (child) await child;
      await until('dockerd processes to be gone', () => processesOf(dir).length === 0, 10_000, () => output).catch(() => undefined);
      // The mounts lived in dockerd's private mount namespace, which died with it.
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return dockerd;
}
