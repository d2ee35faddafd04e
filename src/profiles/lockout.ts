import ipaddr from 'ipaddr.js';
import type { Config } from '../config/schema.js';

/**
 * Lockdown drops every inbound connection it does not list. Applying it from an SSH session that
 * arrives some other way would cut the operator off at the next connection, so apply refuses
 * unless --force. Pure: the session and the host's addresses are passed in.
 */

/** `$SSH_CONNECTION`: "client_ip client_port server_ip server_port". */
export interface SshSession {
  readonly clientAddr: string;
  readonly serverAddr: string;
  readonly serverPort: number;
}

/** Parses $SSH_CONNECTION; undefined when absent or malformed (not an SSH session). */
export function parseSshConnection(text: string | undefined): SshSession | undefined {
  const parts = text?.trim().split(/\s+/) ?? [];
  if (parts.length !== 4) return undefined;
  const [clientAddr, , serverAddr, port] = parts as [string, string, string, string];
  const serverPort = Number(port);
  if (!ipaddr.isValid(serverAddr) || !Number.isInteger(serverPort)) return undefined;
  return { clientAddr, serverAddr, serverPort };
}

/** Canonical text of an address, unwrapping IPv4-mapped IPv6 (sshd prints both forms). */
function canonical(addr: string): string {
  return ipaddr.process(addr.split('%', 1)[0]!).toString();
}

export interface LockoutVerdict {
  readonly safe: boolean;
  readonly reason: string;
}

/** Whether applying `config` keeps the SSH session's way in open. */
export function lockoutRisk(
  config: Config,
  session: SshSession | undefined,
  addresses: readonly { ifname: string; local: string }[],
  /** The way out offered last (the daemon has no --force). */
  override = 'or rerun with --force',
): LockoutVerdict {
  if (!config.profiles.includes('lockdown') || config.mode !== 'on') return { safe: true, reason: 'lockdown is not active' };
  if (!session) return { safe: true, reason: 'not an SSH session' };
  const server = canonical(session.serverAddr);
  const iface = addresses.find((a) => ipaddr.isValid(a.local) && canonical(a.local) === server)?.ifname;
  const where = `your SSH session arrives at ${session.serverAddr} port ${session.serverPort}${iface ? ` on ${iface}` : ''}`;
  if (iface === config.interface) return { safe: true, reason: `${where}, the tunnel` };
  if (iface === 'lo') return { safe: true, reason: `${where} (loopback)` };
  const listed = config.lockdown.managementPorts.some((m) => m.interface === iface && m.proto === 'tcp' && m.port === session.serverPort);
  if (iface && listed) return { safe: true, reason: `${where}, a listed management port` };
  const fix = iface
    ? `add { interface: ${iface}, port: ${session.serverPort} } to lockdown.managementPorts`
    : 'connect over the tunnel';
  return {
    safe: false,
    reason: `refusing to apply lockdown: ${where}${iface ? '' : ' (no local interface has that address)'}, which lockdown does not allow; new SSH connections would be dropped. ${fix}, ${override}`,
  };
}
