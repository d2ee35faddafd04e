import type { Config } from '../config/schema.js';
import type { CommandRunner } from '../exec/runner.js';
import { parseIpAddr } from '../doctor/parse-ip.js';
import { lockoutRisk, parseSshConnection } from '../profiles/lockout.js';

/** Refused: applying lockdown would lock the SSH operator out (override with --force). */
export class LockoutError extends Error {
  readonly kind = 'lockout';
}

/** Throws LockoutError when lockdown would cut the current SSH session's way in. */
export async function guardLockout(config: Config, runner: CommandRunner, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const session = parseSshConnection(env.SSH_CONNECTION);
  if (!session || !config.profiles.includes('lockdown') || config.mode !== 'on') return;
  let addresses: { ifname: string; local: string }[] = [];
  try {
    addresses = parseIpAddr((await runner.run('ip', ['-j', 'addr'], { timeoutMs: 5000 })).stdout).addresses;
  } catch {
    // Unknown interface: lockoutRisk refuses, which is the safe answer.
  }
  const verdict = lockoutRisk(config, session, addresses);
  if (!verdict.safe) throw new LockoutError(verdict.reason);
}
