import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { Stats } from 'node:fs';

/**
 * Reading a file tsfw is told to trust (the config, a rule profile) without trusting what is at
 * the path: it is opened non-blocking (a FIFO cannot hang the open), must be a regular file
 * (not /dev/zero, a FIFO, a socket or a directory) and is read with a byte limit (a growing or
 * huge file cannot exhaust memory). No timeouts: nothing here can block.
 */

/** Config and profile files larger than this are refused. */
export const MAX_TEXT_FILE_BYTES = 4 * 1024 * 1024;

/** Why a file was refused, as a short phrase (`not a regular file (a FIFO)`), plus the errno code if any. */
export class UnreadableFileError extends Error {
  readonly kind = 'unreadable';
  constructor(readonly path: string, readonly reason: string, readonly code?: string, options?: { cause?: unknown }) {
    super(`${path}: ${reason}`, options);
    this.name = 'UnreadableFileError';
  }
}

/** The bytes of a regular file of at most `limit` bytes; throws UnreadableFileError otherwise. */
export function readBoundedFile(path: string, limit = MAX_TEXT_FILE_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UnreadableFileError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code})`, code, { cause: error });
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new UnreadableFileError(path, `not a regular file (${kindOf(s)})`);
    if (s.size > limit) throw new UnreadableFileError(path, `too large (${s.size} bytes, limit ${limit})`);
    // Sized by fstat, grown (up to the limit) if the file grows while being read.
    let buffer = Buffer.alloc(Math.min(limit + 1, Math.max(s.size + 1, 8192)));
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(Math.min(buffer.length, limit + 1 - buffer.length))]);
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > limit) throw new UnreadableFileError(path, `too large (more than ${limit} bytes)`);
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UnreadableFileError(path, `cannot read (${code})`, code, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a file';
}
