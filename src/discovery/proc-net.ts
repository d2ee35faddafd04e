/**
 * Parsers for /proc text (pure): the UDP socket tables and the socket links under /proc/<pid>/fd.
 */

/** One row of /proc/net/udp or /proc/net/udp6 that tsfw cares about. */
export interface UdpSocket {
  readonly port: number;
  readonly inode: string;
  /** Unconnected (state 07): a listening socket rather than a client's connected one. */
  readonly listening: boolean;
  /** Bound to a loopback address only (unreachable from peers). */
  readonly loopback: boolean;
}

/** 127.0.0.0/8 in the kernel's little-endian hex, and ::1. */
function isLoopbackHex(addr: string): boolean {
  if (addr.length === 8) return addr.endsWith('7F');
  return addr === '00000000000000000000000001000000';
}

/** Rows of /proc/net/udp{,6}: `sl local_address rem_address st ... inode`. */
export function parseProcNetUdp(text: string): UdpSocket[] {
  const out: UdpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [addr, portHex] = (f[1] ?? '').split(':');
    const port = Number.parseInt(portHex ?? '', 16);
    if (!addr || !Number.isInteger(port) || port <= 0) continue;
    out.push({ port, inode: f[9]!, listening: f[3] === '07', loopback: isLoopbackHex(addr) });
  }
  return out;
}

/** The inode of a `socket:[12345]` fd link, or undefined for anything else. */
export function socketInode(link: string): string | undefined {
  return /^socket:\[(\d+)\]$/.exec(link)?.[1];
}
