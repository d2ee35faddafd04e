import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import { REPO_ROOT } from './ansible.js';

/**
 * A whole Debian 12 host with a real systemd as PID 1, for testing the shipped unit the way an
 * operator runs it. `systemd-nspawn` needs the host's system bus (absent here), so the host is
 * booted by hand: test/helpers/systemd-boot.sh moves itself into fresh child cgroups, unshares
 * pid/mount/net/uts/ipc/cgroup namespaces and chroots into an overlay of the cached root from
 * scripts/systemd-test-root.sh (debootstrap minbase + systemd, dbus, nftables, iptables, iproute2 and
 * Node from the npm registry). tsfw goes in from `npm pack` with `npm install -g` (prefix /usr/local,
 * as with Debian's Node), written into the overlay before boot: the host has its own network
 * namespace, so npm inside it could not reach the registry. Commands run through `nsenter` into
 * all of its namespaces. Ending it SIGKILLs its PID 1 (which ends every namespace and mount) and
 * removes its cgroups depth-first. Nothing here touches the host's own namespaces.
 */

const BOOT_SCRIPT = fileURLToPath(new URL('./systemd-boot.sh', import.meta.url));
/** Units a container must not run: gettys (no terminals) and host-wide kernel settings. */
const MASKED = ['getty@tty1.service', 'console-getty.service', 'serial-getty@.service', 'systemd-sysctl.service',
  'systemd-binfmt.service', 'proc-sys-fs-binfmt_misc.automount', 'systemd-modules-load.service'] as const;

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface SystemdHost {
  /** PID 1 of the host as the real host sees it. */
  readonly pid: number;
  /** Runs a command inside every namespace of the host, from its root; never throws on exit status. */
  run(file: string, args: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<CommandResult>;
  /** `sh -c` inside; throws with stderr when it fails. */
  sh(command: string): Promise<string>;
  /** `systemctl show -p A,B unit` as a record. */
  show(unit: string, properties: readonly string[]): Promise<Record<string, string>>;
  destroy(): Promise<void>;
}

/** Builds (when absent) and returns the cached root. Slow the first time (debootstrap). */
export async function systemdRoot(): Promise<string> {
  const r = await execa(join(REPO_ROOT, 'scripts', 'systemd-test-root.sh'), [], { timeout: 900_000, stderr: 'inherit' });
  return String(r.stdout).trim();
}

/** `npm pack` of the checkout (built already) into dir; returns the tarball's path. */
export async function packTsfw(dir: string): Promise<string> {
  const pack = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, timeout: 120_000 });
  const [report] = JSON.parse(String(pack.stdout)) as { filename: string }[];
  return join(dir, report!.filename);
}

interface CgroupHierarchy {
  /** Where the host mounts it. */
  readonly mountPoint: string;
  readonly fstype: 'cgroup' | 'cgroup2';
  /** Mount options that select the hierarchy (controllers, name=systemd); empty for cgroup2. */
  readonly options: string;
  /** This process's cgroup in it. */
  readonly path: string;
}

/** Every cgroup hierarchy mounted on the host, with this process's place in each. */
function cgroupHierarchies(): CgroupHierarchy[] {
  const own = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((line) => {
    const [, controllers = '', ...path] = line.split(':');
    return { controllers: controllers.split(',').filter(Boolean), path: path.join(':') };
  });
  const found: CgroupHierarchy[] = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mountPoint, fstype, options = ''] = line.split(' ');
    if (!mountPoint?.startsWith('/sys/fs/cgroup') || (fstype !== 'cgroup' && fstype !== 'cgroup2')) continue;
    const opts = options.split(',');
    const mine = fstype === 'cgroup2' ? own.find((o) => o.controllers.length === 0)
      : own.find((o) => o.controllers.length > 0 && o.controllers.every((c) => opts.includes(c)));
    if (!mine) continue;
    const selecting = fstype === 'cgroup2' ? '' : mine.controllers.join(',');
    found.push({ mountPoint, fstype, options: selecting, path: mine.path });
  }
  return found;
}

/** Removes a cgroup directory tree, children first (the kernel refuses a parent with children). */
function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  }
  rmdirSync(dir);
}

/** Probes every 50 ms until it returns a value; throws naming `what` after timeoutMs. */
export async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Boots a fresh host over the cached root with tsfw installed from `tarball` (nothing else: no
 * /etc/tsfw, no unit installed yet) and waits until systemd reports the system running.
 */
export async function bootSystemdHost(lower: string, tarball: string): Promise<SystemdHost> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-systemd-'));
  const upper = join(dir, 'upper');
  for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d));
  const install = await execa('npm', ['install', '--global', '--prefix', join(upper, 'usr', 'local'), '--no-audit', '--no-fund', tarball], {
    timeout: 240_000, reject: false, all: true, env: { npm_config_update_notifier: 'false' },
  });
  if (install.exitCode !== 0) throw new Error(`npm install -g of ${tarball} failed:\n${String(install.all)}`);
  const unitDir = join(upper, 'etc', 'systemd', 'system');
  mkdirSync(unitDir, { recursive: true });
  for (const unit of MASKED) symlinkSync('/dev/null', join(unitDir, unit));

  const tag = `tsfw-systemd-${randomBytes(4).toString('hex')}`;
  const hierarchies = cgroupHierarchies();
  const cgroups = hierarchies.map((h) => join(h.mountPoint, h.path, tag));
  for (const cg of cgroups) {
    mkdirSync(cg);
    // A new cpuset v1 group starts with no CPUs and no memory nodes: nothing could join it.
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(cg, file)) && readFileSync(join(cg, file), 'utf8').trim() === '') {
        writeFileSync(join(cg, file), readFileSync(join(cg, '..', file), 'utf8'));
      }
    }
  }
  const mounts = hierarchies.map((h) => {
    const name = h.mountPoint === '/sys/fs/cgroup' ? '.' : h.mountPoint.slice('/sys/fs/cgroup/'.length);
    return `${name} ${h.fstype} ${h.options || 'rw'}`;
  }).join('\n');

  const boot: ResultPromise = execa(BOOT_SCRIPT, [lower, dir, ...cgroups], {
    env: { TSFW_CGROUP_MOUNTS: mounts }, reject: false, all: true, stdin: 'ignore',
  });
  let ended = false;
  let bootOutput = '';
  void boot.then((r) => {
    bootOutput = String(r.all ?? '');
    ended = true;
  });
  const outer = boot.pid!;
  let pid = 0;
  const host: SystemdHost = {
    get pid() {
      return pid;
    },
    async run(file, args, options = {}) {
      const r = await execa('nsenter', ['-t', String(pid), '-m', '-p', '-n', '-u', '-i', '-C', '-r', '-w', '--', file, ...args], {
        input: options.input, reject: false, timeout: options.timeoutMs ?? 60_000, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
        extendEnv: false,
      });
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1 };
    },
    async sh(command) {
      const r = await host.run('/bin/sh', ['-c', command]);
      if (r.exitCode !== 0) throw new Error(`inside the systemd host: ${command}: exit ${r.exitCode}: ${r.stderr}`);
      return r.stdout;
    },
    async show(unit, properties) {
      const out = await host.sh(`systemctl show -p ${properties.join(',')} ${unit}`);
      return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    },
    async destroy() {
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      boot.kill('SIGKILL');
      await poll('the booted host to end', 30_000, () => (ended ? true : undefined));
      for (const cg of cgroups) {
        // The last processes of the namespace may still be exiting: retry until the tree goes.
        await poll(`${cg} to be removed`, 30_000, () => {
          try {
            removeCgroupTree(cg);
            return true;
          } catch {
            return undefined;
          }
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    pid = await poll('the booted PID 1', 10_000, () => {
      if (ended) throw new Error(`the boot script ended early: ${bootOutput}`);
      const children = readFileSync(`/proc/${outer}/task/${outer}/children`, 'utf8').trim();
      return children ? Number(children.split(' ')[0]) : undefined;
    });
    await poll('systemd inside to start', 10_000, () => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd' ? true : undefined;
      } catch {
        return undefined;
      }
    });
    await poll('systemd\'s private bus socket', 30_000, async () => ((await host.run('test', ['-S', '/run/systemd/private'])).exitCode === 0 ? true : undefined));
    const state = await host.run('systemctl', ['is-system-running', '--wait'], { timeoutMs: 60_000 });
    const running = state.stdout.trim();
    if (running !== 'running') {
      const failed = await host.run('systemctl', ['--failed', '--no-legend']);
      throw new Error(`the systemd host is ${running || state.stderr.trim()}; failed units: ${failed.stdout.trim() || 'none'}`);
    }
    return host;
  } catch (error) {
    await host.destroy();
    throw error;
  }
}
