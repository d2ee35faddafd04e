import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { applyUnderHeldLock } from '../helpers/xtables-lock.js';

/**
 * Lock contention: iptables-restore waits 5 s for the xtables lock (-w 5) and exits 4 when it is
 * still busy; tsfw then retries. Held for 7 s, the first restore must give up and a retry succeed.
 */
describe('reliability: xtables lock contention (iptables-legacy)', () => {
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

  it('a lock held for 7 s (longer than one -w 5 wait) → tsfw retries after exit 4 and applies', async () => {
    const r = await applyUnderHeldLock(ns, cfg.path, 7);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ms).toBeGreaterThan(5000);
    // ip filter ts-input, ts-forward; nat ts-postrouting; mangle ts-prerouting, ts-mangle-out (connmark, mode on).
    expect(r.tsChains).toBe(5);
  }, 60_000);
});
