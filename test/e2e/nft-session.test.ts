import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNftSession, oneShotLister } from '../../src/backends/nftables/session.js';
import type { NftSession } from '../../src/backends/nftables/session.js';
import { isMissingObject } from '../../src/exec/errors.js';
import { createProcessRunner } from '../../src/exec/runner.js';
import type { InteractiveSpawner } from '../../src/exec/runner.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * The daemon's long-running `nft -j -i` (nftables/session.ts) against the real nft in a
 * namespace: it answers exactly what one `nft -j -f -` per read answers, for a present, a missing
 * and a large table (one JSON line of several pipe buffers), is replaced after maxReads, and
 * never writes a history file.
 */
describe('nft session (real nft)', () => {
  let ns: Netns;
  let scratch: string;
  const sessions: NftSession[] = [];
  const inNs = (name: string): InteractiveSpawner => {
    const runner = createProcessRunner();
    return { spawnInteractive: (file, args, onLine, env) => runner.spawnInteractive('ip', ['netns', 'exec', name, file, ...args], onLine, env) };
  };
  const open = (maxReads?: number) => {
    const session = createNftSession({ spawner: inNs(ns.name), fallback: oneShotLister(ns.runner), home: join(scratch, 'home-absent'), ...(maxReads ? { maxReads } : {}) });
    sessions.push(session);
    return session;
  };

  beforeAll(async () => {
    ns = await createNetns('tsfwsess');
    scratch = mkdtempSync(join(tmpdir(), 'tsfw-session-'));
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.stop()));
    await ns?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers like one nft per read: a present table, a missing one, a large one', async () => {
    const session = open();
    const oneShot = oneShotLister(ns.runner);
    const missing = await session.listTable('inet', 'tsfw');
    expect(missing?.exitCode).toBe(1);
    expect(isMissingObject(missing!.stderr)).toBe(true);
    await ns.exec('nft', ['-f', '-'], { input: 'table inet tsfw { chain ts-input { type filter hook input priority -10; policy accept; iifname "tailscale0" counter accept comment "tsfw:x"; }; }\n' });
    const present = await session.listTable('inet', 'tsfw');
    expect(present).toEqual(await oneShot('inet', 'tsfw'));
    expect(JSON.parse(present!.stdout).nftables.some((o: { chain?: { name: string } }) => o.chain?.name === 'ts-input')).toBe(true);
    const rules = Array.from({ length: 3000 }, (_, i) => `add rule inet tsfw ts-input ip saddr 192.0.2.${i % 250} tcp dport ${1000 + i} counter accept comment "tsfw:r${i}"`);
    await ns.exec('nft', ['-f', '-'], { input: `${rules.join('\n')}\n` });
    const large = await session.listTable('inet', 'tsfw');
    expect(large!.stdout.length).toBeGreaterThan(4 * 65536);
    expect(large).toEqual(await oneShot('inet', 'tsfw'));
    expect(session.status()).toMatchObject({ fallbacks: 0, children: 1 });
  });

  it('is one nft child with HOME pointing nowhere, replaced after maxReads, and writes no history', async () => {
    const session = open(3);
    const pids: (number | undefined)[] = [];
    for (let i = 0; i < 7; i++) {
      expect((await session.listTable('inet', 'tsfw'))?.exitCode).toBe(0);
      pids.push(session.status().pid);
    }
    expect(session.status()).toMatchObject({ reads: 7, fallbacks: 0, children: 3 });
    const live = session.status().pid!;
    expect(readFileSync(`/proc/${live}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual(['nft', '-j', '-i']);
    expect(readFileSync(`/proc/${live}/environ`, 'utf8').split('\0')).toContain(`HOME=${join(scratch, 'home-absent')}`);
    expect(new Set(pids.filter((p) => p !== undefined)).size).toBe(3);
    await session.stop();
    expect(readdirSync(scratch)).toEqual([]);
  });
});
