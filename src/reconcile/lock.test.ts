import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { acquireLock, LockBusyError, withLock } from './lock.js';

const runDir = () => mkdtempSync(join(tmpdir(), 'tsfw-lock-'));
const pidns = () => /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]!;
/** The owner record a holder leaves: an empty file named after its pid and pid namespace. */
const plantOwner = (dir: string, pid: number, ns = pidns()) => writeFileSync(join(dir, 'lock', `owner.${pid}.${ns}`), '');

describe('the shared lock', () => {
  it('serialises holders: the second waits until the first releases', async () => {
    const dir = runDir();
    const order: string[] = [];
    const first = withLock({ runDir: dir }, async () => {
      order.push('first in');
      await new Promise((r) => setTimeout(r, 100));
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 10));
    await withLock({ runDir: dir }, async () => {
      order.push('second');
    });
    await first;
    expect(order).toEqual(['first in', 'first out', 'second']);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('gives up after waitMs with a clear error naming the holder', async () => {
    const dir = runDir();
    const release = await acquireLock({ runDir: dir });
    try {
      const attempt = acquireLock({ runDir: dir, waitMs: 100 });
      await expect(attempt).rejects.toBeInstanceOf(LockBusyError);
      await expect(attempt).rejects.toThrow(`pid ${process.pid}`);
    } finally {
      await release();
    }
  });

  it('recovers at once from a holder killed with SIGKILL (its lock names a dead pid)', async () => {
    const dir = runDir();
    // What a SIGKILLed holder leaves behind: a fresh lock directory naming its (now dead) pid.
    const dead = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    mkdirSync(join(dir, 'lock'));
    plantOwner(dir, Number(dead.stdout));
    const started = performance.now();
    const release = await acquireLock({ runDir: dir, waitMs: 1_000 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(readdirSync(join(dir, 'lock'))).toEqual([`owner.${process.pid}.${pidns()}`]);
    await release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('waits for a live holder, whatever its pid record says', async () => {
    const dir = runDir();
    mkdirSync(join(dir, 'lock'));
    // pid 1 is alive: never taken over by the pid rule, only by staleness.
    plantOwner(dir, 1);
    await expect(acquireLock({ runDir: dir, waitMs: 200 })).rejects.toThrow('(pid 1)');
  });

  it('creates the lock directory 0755 and its owner record 0644 whatever the umask', async () => {
    const dir = runDir();
    const old = process.umask(0);
    try {
      const release = await acquireLock({ runDir: dir });
      const record = join(dir, 'lock', `owner.${process.pid}.${pidns()}`);
      expect(statSync(join(dir, 'lock')).mode & 0o7777).toBe(0o755);
      expect(statSync(record).mode & 0o7777).toBe(0o644);
      await release();
    } finally {
      process.umask(old);
    }
  });

  it('refuses a run directory another user may write, naming it', async () => {
    const dir = runDir();
    chmodSync(dir, 0o777);
    await expect(acquireLock({ runDir: dir, waitMs: 100 })).rejects.toThrow(`run directory ${dir}: is writable by others (mode 0777): refusing to use it`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock nobody refreshed for the stale period (proper-lockfile)', async () => {
    const dir = runDir();
    mkdirSync(join(dir, 'lock'));
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'lock'), old, old);
    const release = await acquireLock({ runDir: dir, waitMs: 1_000 });
    await release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a stale lock that still holds an owner record from another pid namespace', async () => {
    const dir = runDir();
    mkdirSync(join(dir, 'lock'));
    plantOwner(dir, 1, '1');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'lock'), old, old);
    const release = await acquireLock({ runDir: dir, waitMs: 1_000 });
    await release();
    expect(readdirSync(dir)).toEqual([]);
  });
});
