import ipaddr from 'ipaddr.js';
import { parseIpAddr } from '../doctor/parse-ip.js';
import { ExecError } from '../exec/errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Fact } from './facts.js';

/**
 * `addresses: auto`: the tunnel interface's own addresses, read through netlink with
 * `ip -j addr show dev <interface>` (the one exec seam). Link-local IPv6 addresses are not
 * tailnet addresses and are skipped. No interface or no address yet is a fact, not an error.
 */
export async function discoverAddresses(runner: CommandRunner, iface: string): Promise<Fact<string>> {
  let stdout: string;
  try {
    ({ stdout } = await runner.run('ip', ['-j', 'addr', 'show', 'dev', iface], { timeoutMs: 5000 }));
  } catch (error) {
    if (error instanceof ExecError && /does not exist|Cannot find device/i.test(error.stderr)) {
      return { values: [], source: 'none', note: `interface ${iface} does not exist yet` };
    }
    throw error;
  }
  const values = parseIpAddr(stdout || '[]').addresses
    .filter((a) => a.ifname === iface)
    .filter((a) => !(a.family === 'inet6' && ipaddr.parse(a.local).range() === 'linkLocal'))
    .map((a) => `${a.local}/${a.family === 'inet' ? 32 : 128}`);
  const unique = [...new Set(values)];
  return unique.length > 0 ? { values: unique, source: 'interface' } : { values: [], source: 'none', note: `no address on ${iface} yet` };
}
