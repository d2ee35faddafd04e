import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { createProcessRunner, inNetns } from '../../src/exec/runner.js';
import type { CommandRunner } from '../../src/exec/runner.js';

/**
 * Network namespaces for real-kernel tests. Every namespace is created by the test, named with a
 * random suffix (so parallel runs never collide), and removed afterwards; nothing here touches
 * the host's own ruleset or sends traffic outside the namespaces.
 */

export interface Netns {
  readonly name: string;
  /** Runs a command inside the namespace; throws on a non-zero exit. */
  sh(command: string): Promise<string>;
  exec(file: string, args: readonly string[], options?: { input?: string; reject?: boolean }): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  /** The production command runner, wrapped to run inside this namespace. */
  readonly runner: CommandRunner;
  destroy(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Creates an empty namespace with loopback up. */
export async function createNetns(prefix = 'tsfwt'): Promise<Netns> {
  const name = uniqueName(prefix);
  await execa('ip', ['netns', 'add', name]);
  const ns: Netns = {
    name,
    async sh(command) {
      const r = await execa('ip', ['netns', 'exec', name, 'sh', '-c', command]);
      return r.stdout;
    },
    async exec(file, args, options = {}) {
      const r = await execa('ip', ['netns', 'exec', name, file, ...args], {
        input: options.input,
        reject: options.reject ?? true,
        env: { LC_ALL: 'C' },
      });
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1 };
    },
    runner: inNetns(createProcessRunner(), name),
    async destroy() {
      // Kill anything still running inside (listeners, daemons) before deleting.
      await execa('ip', ['netns', 'pids', name], { reject: false }).then(async (r) => {
        const pids = String(r.stdout).split('\n').filter(Boolean);
        if (pids.length) await execa('kill', ['-9', ...pids], { reject: false });
      });
      await execa('ip', ['netns', 'del', name], { reject: false });
    },
  };
  await ns.sh('ip link set lo up');
  return ns;
}

/**
 * A veth pair between two namespaces, each end named and addressed. Both ends are created in
 * their namespaces directly: never, not even for a moment, in the host's own (where a pair made
 * there and then moved would show up in the host's interfaces while another test looks).
 */
export async function link(
  a: Netns, aIf: string, aAddrs: readonly string[],
  b: Netns, bIf: string, bAddrs: readonly string[],
): Promise<void> {
  await execa('ip', ['link', 'add', aIf, 'netns', a.name, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
  await a.sh(`ip link set ${aIf} up`);
  await b.sh(`ip link set ${bIf} up`);
  for (const addr of aAddrs) await a.sh(`ip addr add ${addr} dev ${aIf} nodad`);
  for (const addr of bAddrs) await b.sh(`ip addr add ${addr} dev ${bIf} nodad`);
}
