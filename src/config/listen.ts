import ipaddr from 'ipaddr.js';

/** A parsed `host:port` listen address. `host` is a bare IP literal (no brackets). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `127.0.0.1:9101` or `[::1]:9101` and insists on a loopback address: the metrics
 * listener has no authentication, so it must never be reachable from another host. Returns an
 * error string (for the config schema) instead of throwing.
 */
export function parseLoopbackListen(text: string): ListenAddress | string {
  const found = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  if (!found) return `must be "127.0.0.1:PORT" or "[::1]:PORT", got ${JSON.stringify(text)}`;
  const [, host, portText] = found;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port must be between 1 and 65535, got ${portText}`;
  if (!ipaddr.isValid(host!)) return `${host} is not an IP address (names are not resolved)`;
  const addr = ipaddr.parse(host!);
  if (addr.range() !== 'loopback') return `${host} is not a loopback address: the metrics listener must stay on 127.0.0.0/8 or ::1`;
  return { host: addr.toString(), port };
}
