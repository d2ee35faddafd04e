import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { applyUnderHeldLock } from '../helpers/xtables-lock.js';

/** Lock never released within tsfw's retries: a clear failure, and nothing half-written. */
describe('reliability: xtables lock held beyond every retry (iptables-legacy)', () => {
  let ns: Netns;
  let cfg: TempConfig;
  beforeEach(async () => {
    ns = await createNetns('tsfwlock');
    cfg = tempConfig({ backend: 'iptables-legacy' });
  });
  afterEach(async () => {
    await ns?.destroy();
    cfg?.remove();
  });

  it('lock held for 60 s → apply fails with a message about the lock, no tsfw chain exists', async () => {
    const r = await applyUnderHeldLock(ns, cfg.path, 60);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/xtables\.lock/);
    expect(r.tsChains).toBe(0);
  }, 120_000);
});
