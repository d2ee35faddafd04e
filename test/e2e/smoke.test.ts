import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { ADDR } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

describe('test topology (no tsfw rules)', () => {
  let net: Router;
  beforeAll(async () => {
    net = await createRouter();
  });
  afterAll(async () => {
    await net?.destroy();
  });

  it('routes tailnet → LAN without masquerade, and accepts the spoofed source when nothing filters', async () => {
    expect(await probeUdp(net.peer, net.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: 5000 }))
      .toEqual({ arrived: true, from: ADDR.peer });
    expect(await probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: 5001 }))
      .toEqual({ arrived: true, from: ADDR.spoofed });
  });
});
