import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Unpredictable hex for temp and lock-aside names, read from the kernel's /dev/urandom (the
 * source node:crypto's randomBytes draws on too). Loading node:crypto costs 5-8 ms of every CLI
 * start (docs/PERFORMANCE.md, "CLI start-up"); these few bytes need none of it.
 */
export function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    let filled = 0;
    while (filled < bytes) {
      const n = readSync(fd, buffer, filled, bytes - filled, null);
      if (n === 0) throw new Error('/dev/urandom returned no bytes');
      filled += n;
    }
  } finally {
    closeSync(fd);
  }
  return buffer.toString('hex');
}
