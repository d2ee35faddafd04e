import type { Config } from '../config/schema.js';
import { parseIpAddr } from '../doctor/parse-ip.js';
import type { CommandRunner } from '../exec/runner.js';
import { lockoutRisk } from '../profiles/lockout.js';
import { parseSshSessions } from '../profiles/ssh-sessions.js';

/**
 * The lockout guard for the daemon: before it adopts a config with lockdown active, every SSH
 * session now open on this host (sshd's established connections) must still be let back in, or
 * the reload is rejected and the last good config stays. `apply` and `reconcile` check the
 * session they run from instead ($SSH_CONNECTION, src/cli/lockout-guard.ts).
 */

/** The reason this config would cut an open SSH session, or undefined when it would not. */
export async function daemonLockoutProblem(config: Config, runner: CommandRunner): Promise<string | undefined> {
  if (!config.profiles.includes('lockdown') || config.mode !== 'on') return undefined;
  const ss = await runner.run('ss', ['-Htnp', 'state', 'established'], { timeoutMs: 5_000, allowFailure: true }).catch(() => undefined);
  if (!ss || ss.exitCode !== 0) return undefined; // no ss: nothing can be known about sessions
  const sessions = parseSshSessions(ss.stdout);
  if (sessions.length === 0) return undefined;
  let addresses: { ifname: string; local: string }[] = [];
  try {
    addresses = parseIpAddr((await runner.run('ip', ['-j', 'addr'], { timeoutMs: 5_000 })).stdout).addresses;
  } catch {
    // Unknown interfaces: lockoutRisk refuses, the safe answer.
  }
  for (const session of sessions) {
    const verdict = lockoutRisk(config, session, addresses, 'or connect over the tunnel and reload again');
    if (!verdict.safe) return `lockout: ${verdict.reason}`;
  }
  return undefined;
}
