import { existsSync } from 'node:fs';
import type { CommandRunner } from '../../exec/runner.js';

/**
 * firewalld's D-Bus API through `busctl` (systemd's bus client: present wherever systemd runs
 * firewalld, ~10 ms a call against ~300 ms for a python `firewall-cmd` start, and `--json=short`
 * gives typed, parseable replies). Every call tsfw makes to firewalld goes through `call` here.
 */

export const FIREWALLD = 'org.fedoraproject.FirewallD1';
export const RUNTIME_PATH = '/org/fedoraproject/FirewallD1';
export const CONFIG_PATH = '/org/fedoraproject/FirewallD1/config';
export const ZONE_IFACE = `${FIREWALLD}.zone`;
export const CONFIG_IFACE = `${FIREWALLD}.config`;
export const CONFIG_ZONE_IFACE = `${FIREWALLD}.config.zone`;

/** A failed call; `code` is firewalld's error name (`NOT_ENABLED`, `ZONE_ALREADY_SET`, ...) when it sent one. */
export class BusError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'BusError';
  }
}

/** Error names that mean "firewalld is not there" rather than "the call was refused". */
const UNREACHABLE = /Failed to connect to bus|was not provided by any \.service files|ServiceUnknown|NameHasNoOwner|No such file or directory|Connection refused/;

/** Maps busctl's stderr (`Call failed: NOT_ENABLED: '41641:udp' not in 'public'`) to a BusError. */
export function busError(stderr: string): BusError {
  const line = stderr.split('\n').find((l) => l.trim()) ?? 'busctl failed';
  if (UNREACHABLE.test(stderr)) return new BusError('UNREACHABLE', line.trim());
  const m = /Call failed: ([A-Z_]+):/.exec(line);
  return new BusError(m?.[1] ?? 'FAILED', line.trim());
}

/** One D-Bus argument: a string, a boolean or an int32, with its signature letter. */
export type BusArg = string | number;

function signature(args: readonly BusArg[]): string {
  return args.map((a) => (typeof a === 'number' ? 'i' : 's')).join('');
}

/** The calls tsfw makes; a fake implements it in unit tests. */
export interface FirewalldBus {
  /** Calls `method` on `path`/`iface` and returns the reply's values (busctl `data`). */
  call(path: string, iface: string, method: string, args?: readonly BusArg[]): Promise<unknown[]>;
  /** Reads one property. */
  property(path: string, iface: string, name: string): Promise<unknown>;
}

const BUSCTL_TIMEOUT_S = 10;

/** Where busctl finds the system bus unless $DBUS_SYSTEM_BUS_ADDRESS says otherwise. */
const SYSTEM_BUS_SOCKET = '/run/dbus/system_bus_socket';

/** Whether a system bus can be there at all (no busctl spawn on hosts without one, every pass). */
export function systemBusPresent(): boolean {
  return Boolean(process.env.DBUS_SYSTEM_BUS_ADDRESS) || existsSync(SYSTEM_BUS_SOCKET);
}

/**
 * The real bus, through the command runner (so tests run it inside their namespaces). `present`
 * is asked before each call; a runner that enters another mount namespace passes its own.
 */
export function busctlBus(runner: CommandRunner, present: () => boolean = systemBusPresent): FirewalldBus {
  const run = async (args: readonly string[]): Promise<unknown> => {
    if (!present()) throw new BusError('UNREACHABLE', `no system bus (${SYSTEM_BUS_SOCKET})`);
    const r = await runner.run('busctl', ['--system', '--json=short', `--timeout=${BUSCTL_TIMEOUT_S}`, ...args], { allowFailure: true, timeoutMs: (BUSCTL_TIMEOUT_S + 5) * 1000 });
    if (r.exitCode !== 0) throw busError(r.stderr);
    const text = r.stdout.trim();
    return text ? (JSON.parse(text) as { data?: unknown }).data : undefined;
  };
  return {
    async call(path, iface, method, args = []) {
      const data = await run(['call', FIREWALLD, path, iface, method, ...(args.length > 0 ? [signature(args), ...args.map(String)] : [])]);
      return Array.isArray(data) ? data : [];
    },
    property: (path, iface, name) => run(['get-property', FIREWALLD, path, iface, name]),
  };
}
