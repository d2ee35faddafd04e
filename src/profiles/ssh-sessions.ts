import type { SshSession } from './lockout.js';

/**
 * The SSH sessions a daemon can see (it has no $SSH_CONNECTION of its own): established TCP
 * connections owned by an `sshd` process, from `ss -Htnp state established`. Pure.
 */

/** `addr:port`, `[v6]:port` or `v6%zone:port` → address and port. */
function endpoint(text: string): { addr: string; port: number } | undefined {
  const cut = text.lastIndexOf(':');
  if (cut <= 0) return undefined;
  const addr = text.slice(0, cut).replace(/^\[|\]$/g, '').split('%', 1)[0]!;
  const port = Number(text.slice(cut + 1));
  return Number.isInteger(port) ? { addr, port } : undefined;
}

/** Sessions of sshd in `ss -Htnp state established` output (columns: Recv-Q Send-Q Local Peer Process). */
export function parseSshSessions(ssOutput: string): SshSession[] {
  const sessions: SshSession[] = [];
  for (const line of ssOutput.split('\n')) {
    if (!/users:\(\("sshd/.test(line)) continue;
    const [, , local, peer] = line.trim().split(/\s+/);
    const server = local ? endpoint(local) : undefined;
    const client = peer ? endpoint(peer) : undefined;
    if (server && client) sessions.push({ clientAddr: client.addr, serverAddr: server.addr, serverPort: server.port });
  }
  return sessions;
}
