import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TSFW_BIN } from './cli.js';
import type { Netns } from './netns.js';

/**
 * Runs `tsfw apply` (iptables-legacy) while another process holds the xtables lock for `holdS`
 * seconds. /run/xtables.lock is a host path shared by every namespace, so the lock and the run
 * live in a private mount namespace (`unshare -m`) with a tmpfs on /run: the host's lock is never
 * touched.
 */
export async function applyUnderHeldLock(ns: Netns, config: string, holdS: number): Promise<{ exitCode: number; ms: number; stderr: string; tsChains: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-lock-'));
  const script = `
mount -t tmpfs tmpfs /run
flock /run/xtables.lock sleep ${holdS} >/dev/null 2>&1 &
sleep 0.3
start=$(date +%s%N)
TSFW_RUN_DIR=${dir} ${process.execPath} ${TSFW_BIN} apply --no-save -c ${config} 2> ${dir}/stderr
code=$?
end=$(date +%s%N)
echo "$code $(( (end - start) / 1000000 )) $(iptables-legacy-save | grep -c '^:ts-')"
`;
  try {
    const r = await ns.exec('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]);
    const [code, ms, chains] = r.stdout.trim().split('\n').at(-1)!.split(' ').map(Number);
    return { exitCode: code!, ms: ms!, tsChains: chains!, stderr: readFileSync(join(dir, 'stderr'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
