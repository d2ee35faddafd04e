import { createLogger } from '../log/logger.js';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import type { CommandResult, CommandRunner } from '../exec/runner.js';
import { createDiscoveredDesired } from './discovered.js';
import { createFreshness } from './freshness.js';

const quiet = createLogger('silent');
const config = (yaml: string) => parseConfigText(yaml, 'test').config;

/** `ip -j addr show dev tailscale0` with the address the test sets, counting reads. */
function ipRunner(address: { value: string }): CommandRunner & { reads: () => number } {
  let reads = 0;
  return {
    reads: () => reads,
    run(file: string): Promise<CommandResult> {
      if (file !== 'ip') throw new Error(`unexpected ${file}`);
      reads += 1;
      const stdout = JSON.stringify([{ ifname: 'tailscale0', addr_info: [{ family: 'inet', local: address.value, prefixlen: 32 }] }]);
      return Promise.resolve({ stdout, stderr: '', exitCode: 0 });
    },
  };
}

describe('the daemon\'s discovered desired state', () => {
  it('reads the addresses while no live address monitor vouches for them, and reuses them while it is silent', async () => {
    const address = { value: '100.64.0.1' };
    const runner = ipRunner(address);
    const fresh = createFreshness(30_000, () => 0);
    const d = createDiscoveredDesired(runner, quiet, fresh);
    const cfg = config('ports: [41641]');
    await d.desired(cfg);
    await d.desired(cfg);
    expect(runner.reads()).toBe(2);
    fresh.setLive(true);
    await d.desired(cfg);
    await d.desired(cfg);
    expect(runner.reads()).toBe(3);
    // Any line from the monitor: read again, and the new address is planned.
    address.value = '100.64.0.2';
    fresh.changed();
    await d.desired(cfg);
    expect(runner.reads()).toBe(4);
    expect(d.last()?.addresses.values).toEqual(['100.64.0.2/32']);
  });

  it('without a monitor (addresses given, or a one-shot pass) reads as before', async () => {
    const runner = ipRunner({ value: '100.64.0.1' });
    const d = createDiscoveredDesired(runner, quiet);
    await d.desired(config('ports: [41641]'));
    await d.desired(config('ports: [41641]'));
    expect(runner.reads()).toBe(2);
    await d.desired(config('addresses: [100.64.0.9]'));
    expect(runner.reads()).toBe(2);
  });

  it('rebuilds the ruleset only when the config object or the facts changed', async () => {
    const address = { value: '100.64.0.1' };
    const d = createDiscoveredDesired(ipRunner(address), quiet);
    const cfg = config('ports: [41641]');
    const first = await d.desired(cfg);
    expect(await d.desired(cfg)).toBe(first);
    address.value = '100.64.0.3';
    const moved = await d.desired(cfg);
    expect(moved).not.toBe(first);
    expect(JSON.stringify(moved)).toContain('100.64.0.3');
    const reloaded = config('ports: [41641]\nmode: nodivert');
    const other = await d.desired(reloaded);
    expect(other).not.toBe(moved);
    expect(other.mode).toBe('nodivert');
  });
});
