import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';
import { readBoundedFile } from './read-bounded.js';
import { ensureDir, ensureTrustedDir } from './safe-dir.js';

const dir = () => mkdtempSync(join(tmpdir(), 'tsfw-fsx-'));
const root = process.getuid?.() === 0;
const NOBODY = 65534;

function withUmask<T>(mask: number, fn: () => T): T {
  const old = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

describe('writeFileAtomic', () => {
  it('never writes through symlinks planted at the old predictable temp names or at the target', () => {
    const d = dir();
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious\n');
    const target = join(d, 'state.json');
    for (const name of [`state.json.${process.pid}.tmp`, `.state.json.${process.pid}.tmp`, `state.json.tsfw-${process.pid}.tmp`]) symlinkSync(victim, join(d, name));
    symlinkSync(victim, target);
    writeFileAtomic(target, '{"ok":true}\n', { mode: 0o644 });
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(target).isFile()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('{"ok":true}\n');
    expect(readdirSync(d).filter((n) => n.includes('.tmp') && !lstatSync(join(d, n)).isSymbolicLink())).toEqual([]);
  });

  it('creates new files with exactly the given mode under umask 000', () => {
    const d = dir();
    withUmask(0, () => writeFileAtomic(join(d, 'a'), 'x', { mode: 0o644 }));
    expect(statSync(join(d, 'a')).mode & 0o7777).toBe(0o644);
  });

  it.runIf(root)('keeps the mode and owner of a file it replaces', () => {
    const d = dir();
    const file = join(d, 'config.yaml');
    writeFileSync(file, 'mode: on\n');
    chmodSync(file, 0o640);
    chownSync(file, NOBODY, NOBODY);
    writeFileAtomic(file, 'mode: off\n', { mode: 0o644 });
    const s = statSync(file);
    expect([s.mode & 0o7777, s.uid, s.gid]).toEqual([0o640, NOBODY, NOBODY]);
  });

  it('removes its temp file when the rename fails', () => {
    const d = dir();
    mkdirSync(join(d, 'busy'));
    writeFileSync(join(d, 'busy', 'inside'), '');
    expect(() => writeFileAtomic(join(d, 'busy'), 'x', { mode: 0o644 })).toThrow();
    expect(readdirSync(d)).toEqual(['busy']);
  });
});

describe('readBoundedFile', () => {
  it('refuses a FIFO without blocking, /dev/zero, a directory and a 50 MB file, naming what it is', async () => {
    const d = dir();
    const fifo = join(d, 'fifo');
    await execa('mkfifo', [fifo]);
    const big = join(d, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 50 * 1024 * 1024);
    const started = performance.now();
    expect(() => readBoundedFile(fifo)).toThrow(`${fifo}: not a regular file (a FIFO)`);
    expect(() => readBoundedFile('/dev/zero')).toThrow('/dev/zero: not a regular file (a character device)');
    expect(() => readBoundedFile(d)).toThrow(`${d}: not a regular file (a directory)`);
    expect(() => readBoundedFile(big)).toThrow(`${big}: too large (52428800 bytes, limit 4194304)`);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('reads a regular file, through a symlink too', () => {
    const d = dir();
    writeFileSync(join(d, 'c.yaml'), 'mode: on\n');
    symlinkSync(join(d, 'c.yaml'), join(d, 'link.yaml'));
    expect(readBoundedFile(join(d, 'link.yaml')).toString()).toBe('mode: on\n');
  });
});

describe('ensureDir / ensureTrustedDir', () => {
  it('creates missing directories with exactly the mode given under umask 000', () => {
    const d = dir();
    withUmask(0, () => ensureDir(join(d, 'a', 'b'), 0o755));
    expect(statSync(join(d, 'a')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(d, 'a', 'b')).mode & 0o7777).toBe(0o755);
  });

  it('names a path that is a file instead of a directory', () => {
    const d = dir();
    writeFileSync(join(d, 'run'), '');
    expect(() => ensureTrustedDir(join(d, 'run'), 0o755, 'run directory')).toThrow(`run directory ${join(d, 'run')}: not a directory`);
    expect(() => ensureDir(join(d, 'run', 'sub'), 0o755, 'run directory')).toThrow(`run directory ${join(d, 'run')}: not a directory`);
  });

  it('refuses a directory writable by others, or one below a non-sticky directory others may write', () => {
    const d = dir();
    mkdirSync(join(d, 'open'));
    chmodSync(join(d, 'open'), 0o777);
    expect(() => ensureTrustedDir(join(d, 'open'), 0o755, 'run directory')).toThrow(/is writable by others \(mode 0777\): refusing/);
    mkdirSync(join(d, 'open', 'run'));
    expect(() => ensureTrustedDir(join(d, 'open', 'run'), 0o755, 'run directory')).toThrow(`run directory ${join(d, 'open', 'run')}: ${join(d, 'open')} is writable by others (mode 0777): refusing to use it`);
    // Below the sticky /tmp is fine: others cannot rename what is inside.
    expect(ensureTrustedDir(d, 0o755, 'run directory')).toBe(d);
  });

  it.runIf(root)('refuses a directory owned by another user', () => {
    const d = dir();
    chownSync(d, NOBODY, NOBODY);
    expect(() => ensureTrustedDir(d, 0o755, 'run directory')).toThrow(`run directory ${d}: is owned by uid ${NOBODY}, not root: refusing to use it`);
  });
});
