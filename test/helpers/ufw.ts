import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import { tsfwVia } from './cli.js';
import type { CliRun } from './cli.js';
import type { Netns } from './netns.js';

/**
 * The real ufw (Debian's 0.36) confined to a test namespace: a holder process sits in the test's
 * network namespace and in a private mount namespace of its own, where a tmpfs covers /run (ufw's
 * /run/ufw.lock, the xtables lock) and private copies of /etc/ufw (ufw.conf, user.rules,
 * user6.rules, before/after rules) and /etc/default/ufw (the default policies, which `ufw default`
 * rewrites) are bind-mounted over the host's. Every command, ufw and tsfw alike, enters both
 * namespaces with nsenter, so nothing ufw writes or loads ever reaches the host. ufw writes its
 * files in place (a temp file in /tmp copied over the original), so file bind mounts hold.
 */

export interface UfwHost {
  /** The network namespace ufw runs in. */
  readonly ns: Netns;
  /** An argv prefix that runs the rest inside ufw's namespaces (for `startTsfwDaemon`'s `wrap`). */
  readonly wrap: readonly string[];
  /** The private copy of /etc/ufw on the host's file system (what ufw inside sees as /etc/ufw). */
  readonly etcDir: string;
  /** Runs a command inside; never throws on a non-zero exit. */
  exec(file: string, args: readonly string[]): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  /** `ufw ARGS` inside; throws on a non-zero exit with ufw's output. */
  ufw(...args: string[]): Promise<string>;
  /** The built CLI inside, like cli.ts `tsfw`. */
  tsfw<J = unknown>(args: readonly string[], env?: Record<string, string>): Promise<CliRun<J>>;
  destroy(): Promise<void>;
}

/** A file that exists only in the private copy: proof that the bind mount is in place. */
const MARKER = '.tsfw-test-copy';

/** Starts the holder in `ns` and checks that ufw inside sees only the private copies. */
export async function startUfwHost(ns: Netns): Promise<UfwHost> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-ufw-'));
  const etcDir = join(dir, 'etc-ufw');
  const defaults = join(dir, 'default-ufw');
  cpSync('/etc/ufw', etcDir, { recursive: true, preserveTimestamps: true });
  cpSync('/etc/default/ufw', defaults, { preserveTimestamps: true });
  writeFileSync(join(etcDir, MARKER), 'private copy for one test\n');
  const setup = [
    'mount -t tmpfs -o mode=755 tsfw-ufw-run /run',
    `mount --bind ${etcDir} /etc/ufw`,
    `mount --bind ${defaults} /etc/default/ufw`,
    'echo ready',
    'exec sleep infinity',
  ].join(' && ');
  const holder: ResultPromise = execa('ip', ['netns', 'exec', ns.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup], {
    reject: false,
    buffer: false,
  });
  const destroyHolder = async () => {
    holder.kill('SIGKILL');
    await holder;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      void holder.then((r) => reject(new Error(`ufw holder exited: ${String(r.stderr ?? '')}`)));
    });
  } catch (error) {
    await destroyHolder();
    throw error;
  }
  const pid = holder.pid!;
  const wrap = ['nsenter', `--mount=/proc/${pid}/ns/mnt`, `--net=/proc/${pid}/ns/net`, '--'];
  const exec: UfwHost['exec'] = async (file, args) => {
    const r = await execa(wrap[0]!, [...wrap.slice(1), file, ...args], { reject: false, env: { LC_ALL: 'C' }, timeout: 60_000 });
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1 };
  };
  const host: UfwHost = {
    ns,
    wrap,
    etcDir,
    exec,
    async ufw(...args) {
      const r = await exec('ufw', args);
      if (r.exitCode !== 0) throw new Error(`ufw ${args.join(' ')} exited ${r.exitCode}: ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    tsfw: (args, env = {}) => tsfwVia(wrap, args, env),
    destroy: destroyHolder,
  };
  // Never run ufw against the host's files: the marker must be visible where ufw looks.
  const seen = await exec('cat', [`/etc/ufw/${MARKER}`]);
  const run = await exec('sh', ['-c', 'findmnt -n -o FSTYPE /run']);
  if (seen.exitCode !== 0 || run.stdout.trim() !== 'tmpfs') {
    await destroyHolder();
    throw new Error(`ufw holder: private /etc/ufw or /run missing (${seen.stderr}${run.stdout})`);
  }
  return host;
}

/**
 * iptables-save (v4 and v6, iptables-nft) without tsfw's lines, counters and the timestamped
 * header lines: what must equal before and after tsfw ran. A table left holding nothing but
 * built-in chains with policy ACCEPT (iptables-nft cannot delete the nat table tsfw's chain
 * made it create) filters nothing and is left out.
 */
export async function adminIptables(host: UfwHost): Promise<string> {
  const out: string[] = [];
  for (const save of ['iptables-nft-save', 'ip6tables-nft-save']) {
    const r = await host.exec(save, []);
    const lines = r.stdout.split('\n').filter((l) => !l.startsWith('#') && !/(^:ts-|\bts-(input|forward|postrouting)|tsfw:)/.test(l)).map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'));
    const blocks = lines.join('\n').split(/(?=^\*)/m);
    out.push(...blocks.map((b) => (b.endsWith('\n') ? b : `${b}\n`)).filter((b) => !/^\*\w+\n(:[A-Z]+ ACCEPT \[0:0\]\n)*COMMIT\n$/.test(b)));
  }
  return out.join('');
}
