import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';

/**
 * `mssClamp` with real SYNs: tailscale0 at MTU 1280, the LAN host (MTU 1500, MSS 1460) connects
 * to a tailnet peer through the router. The peer's own kernel counts the SYN by the MSS option it
 * carries on arrival (an nft counter in a table of the peer's namespace), so the clamp is seen
 * where the packet lands, not inferred from tsfw's rules.
 */

let nextPort = 8100;

describe.each(['nftables', 'iptables-nft', 'iptables-legacy'] as const)('MSS clamping on %s', (backend) => {
  let net: Router;
  let cfg: TempConfig;
  const counter = async (name: string) => Number(/packets (\d+)/.exec(await net.peer.sh(`nft list counter inet probe ${name}`))?.[1] ?? NaN);
  /** Sends one SYN from the LAN host to the peer and says which MSS bucket it arrived in. */
  const synMss = async (): Promise<'clamped' | '1460' | 'lost'> => {
    const port = nextPort++;
    const before = { clamped: await counter('clamped'), full: await counter('full') };
    const script = `const s=require('net').connect({host:'${ADDR.peer}',port:${port}});s.on('error',()=>{});setTimeout(()=>process.exit(0),300)`;
    await net.lan.exec(process.execPath, ['-e', script], { reject: false });
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      if ((await counter('clamped')) > before.clamped) return 'clamped';
      if ((await counter('full')) > before.full) return '1460';
      await new Promise((r) => setTimeout(r, 20));
    }
    return 'lost';
  };

  beforeAll(async () => {
    net = await createRouter();
    await net.router.sh('ip link set tailscale0 mtu 1280');
    await net.peer.sh([
      'nft add table inet probe',
      'nft add counter inet probe clamped',
      'nft add counter inet probe full',
      "nft add chain inet probe in '{ type filter hook input priority -300; }'",
      'nft add rule inet probe in tcp flags syn / syn,rst tcp option maxseg size "<=" 1240 counter name clamped',
      'nft add rule inet probe in tcp flags syn / syn,rst tcp option maxseg size 1460 counter name full',
    ].join(' && '));
    cfg = tempConfig({ backend });
  });
  afterAll(async () => {
    await net?.destroy();
    cfg?.remove();
  });

  it('without mssClamp (default), the SYN arrives with MSS 1460', async () => {
    await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path]);
    expect(await synMss()).toBe('1460');
  });

  it('with mssClamp: true, the SYN forwarded into the tunnel arrives with MSS <= 1240; a second apply changes nothing', async () => {
    cfg.write({ backend, mssClamp: true });
    expect((await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path])).changed).toBe(true);
    expect(await synMss()).toBe('clamped');
    expect((await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path])).changed).toBe(false);
    const status = await tsfwJson<{ objects: { rule?: string; packets?: number }[] }>(net.router, ['status', '--json', '-c', cfg.path]);
    expect(status.objects.filter((o) => o.rule === 'ts-clamp/mss-to-tunnel').reduce((n, o) => n + (o.packets ?? 0), 0)).toBeGreaterThan(0);
  });

  it('switching it off again removes the clamp chain and its divert', async () => {
    cfg.write({ backend });
    const off = await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path]);
    expect(off.changed).toBe(true);
    expect(await synMss()).toBe('1460');
  });
});
