import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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

  it('takes over a lock nobody refreshed for the stale period', async () => {
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

  it('keeps a held lock fresh: its mtime is touched while held, so no contender finds it stale', async () => {
    const dir = runDir();
    const release = await acquireLock({ runDir: dir });
    try {
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(dir, 'lock'), old, old);
      await until(() => statSync(join(dir, 'lock')).mtimeMs > Date.now() - 30_000, 5_000);
      await expect(acquireLock({ runDir: dir, waitMs: 100 })).rejects.toBeInstanceOf(LockBusyError);
    } finally {
      await release();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says once when the lock was taken over while held, and then leaves the new holder\'s lock alone', async () => {
    const dir = runDir();
    const compromised: Error[] = [];
    const release = await acquireLock({ runDir: dir, onCompromised: (e) => compromised.push(e) });
    // What a contender does with a lock it found stale: moves it aside and takes its own.
    renameSync(join(dir, 'lock'), join(dir, 'lock.dead-test'));
    mkdirSync(join(dir, 'lock'));
    plantOwner(dir, 1);
    await until(() => compromised.length > 0, 5_000);
    expect(compromised[0]!.message).toMatch(/taken over while held/);
    await release();
    expect(readdirSync(join(dir, 'lock'))).toEqual([`owner.1.${pidns()}`]);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(compromised).toHaveLength(1);
  });
});

/** Waits for a condition (polling every 20 ms), failing after timeoutMs. */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
