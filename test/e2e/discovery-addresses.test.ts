import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { startTsfwDaemon } from '../helpers/daemon.js';
import { createNetns, link } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * `addresses: auto` with real packets: the router's own tailnet address on tailscale0 is reached
 * over lo with a CGNAT source, which the CGNAT drop eats unless tsfw accepts that address from
 * lo. Under a running daemon a changed address is followed (address monitor) within 2 s.
 */

const OLD = '100.101.102.103';
const NEW = '100.101.102.104';
let nextPort = 6800;

describe('addresses: auto (default config), real packets', () => {
  let router: Netns;
  let peer: Netns;
  let cfg: TempConfig;
  const toSelf = (addr: string) => probeUdp(router, router, { src: addr, dst: addr, port: nextPort++ });
  const table = async () => (await router.exec('nft', ['list', 'table', 'inet', 'tsfw'])).stdout;

  beforeAll(async () => {
    [router, peer] = await Promise.all([createNetns('tsfwa'), createNetns('tsfwb')]);
    await link(router, 'tailscale0', [`${OLD}/32`], peer, 'eth0', ['100.101.102.1/32']);
    cfg = tempConfig({});
  });
  afterAll(async () => {
    await Promise.all([router?.destroy(), peer?.destroy()]);
    cfg?.remove();
  });

  it('with an explicit empty list the CGNAT drop eats the router\'s datagram to itself (the rule matters)', async () => {
    cfg.write({ addresses: [] });
    await tsfwJson<ConvergeReport>(router, ['apply', '-c', cfg.path]);
    expect(await toSelf(OLD)).toEqual({ arrived: false });
  });

  it('with the default config the address on tailscale0 is accepted from lo, and status names its source', async () => {
    cfg.write({});
    const report = await tsfwJson<ConvergeReport>(router, ['apply', '-c', cfg.path]);
    expect(report.changed).toBe(true);
    expect((await toSelf(OLD)).arrived).toBe(true);
    const status = await tsfwJson<{ discovered: { addresses: { values: string[]; source: string } } }>(router, ['status', '--json', '-c', cfg.path]);
    expect(status.discovered.addresses).toEqual({ values: [`${OLD}/32`], source: 'interface' });
    const explained = await tsfwJson<{ verdict: string; rule: string }>(router, ['explain', '--src', OLD, '--dst', OLD, '--iif', 'lo', '--json', '-c', cfg.path]);
    expect(explained).toMatchObject({ verdict: 'accept', rule: `ts-input/own-address-from-lo[${OLD}/32]` });
    const counted = await tsfwJson<{ objects: { rule?: string; packets?: number }[] }>(router, ['status', '--json', '-c', cfg.path]);
    expect(counted.objects.find((o) => o.rule === `ts-input/own-address-from-lo[${OLD}/32]`)?.packets).toBeGreaterThan(0);
  });

  it('under a running daemon, a changed address works within 2 s and the old rule is gone', async () => {
    const daemon = await startTsfwDaemon(router, cfg.path);
    try {
      expect(await table()).toContain(`ip saddr ${OLD}`);
      const started = Date.now();
      await router.sh(`ip addr add ${NEW}/32 dev tailscale0 && ip addr del ${OLD}/32 dev tailscale0`);
      let text = '';
      while (Date.now() - started < 2000) {
        text = await table();
        if (text.includes(`ip saddr ${NEW}`) && !text.includes(`ip saddr ${OLD}`)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const elapsed = Date.now() - started;
      expect(text).toContain(`ip saddr ${NEW}`);
      expect(text).not.toContain(`ip saddr ${OLD}`);
      expect(elapsed).toBeLessThan(2000);
      expect((await toSelf(NEW)).arrived).toBe(true);
      expect(daemon.logs.some((l) => l.msg === 'discovered addresses and ports')).toBe(true);
    } finally {
      await daemon.stop();
    }
  });

  it('no address on the interface yet: no own-address rule, said in status, not an error', async () => {
    await router.sh(`ip addr del ${NEW}/32 dev tailscale0`);
    const report = await tsfwJson<ConvergeReport>(router, ['apply', '-c', cfg.path]);
    expect(report.changed).toBe(true);
    expect(await table()).not.toContain('own-address-from-lo');
    const status = await tsfwJson<{ discovered: { addresses: { values: string[]; note: string } } }>(router, ['status', '--json', '-c', cfg.path]);
    expect(status.discovered.addresses.values).toEqual([]);
    expect(status.discovered.addresses.note).toBe('no address on tailscale0 yet');
  });
});
