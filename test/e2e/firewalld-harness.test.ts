import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFirewalld } from '../helpers/firewalld.js';
import type { Firewalld } from '../helpers/firewalld.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * The firewalld harness itself: the real firewalld runs in the router's network namespace with a
 * private /run, bus and /etc/firewalld, and nowhere else. tsfw is not involved here.
 */

/** A digest of every file under `dir` (path, mode and content), to prove the host's copy is untouched. */
function treeDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      hash.update(`${p} ${st.mode}\n`);
      if (st.isDirectory()) walk(p);
      else hash.update(readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

describe('firewalld harness (namespace router)', () => {
  let net: Router;
  let fw: Firewalld | undefined;
  let hostEtc: string;
  let before: { arrived: boolean };

  beforeAll(async () => {
    hostEtc = treeDigest('/etc/firewalld');
    net = await createRouter();
    before = await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 5555 });
    fw = await startFirewalld(net.router);
  }, 90_000);
  afterAll(async () => {
    await fw?.destroy();
    await net?.destroy();
  });

  it('runs firewalld on a private bus: its table exists in the router namespace only', async () => {
    expect(await fw!.cmd('--state')).toBe('running');
    expect((await fw!.exec('nft', ['list', 'tables'])).stdout).toContain('table inet firewalld');
    expect((await net.router.exec('nft', ['list', 'tables'])).stdout).toContain('table inet firewalld');
    expect((await net.peer.exec('nft', ['list', 'tables'])).stdout).not.toContain('firewalld');
    // The bus socket lives in the private /run only.
    expect((await fw!.exec('test', ['-S', '/run/dbus/system_bus_socket'], { reject: false })).exitCode).toBe(0);
    expect((await net.router.exec('test', ['-e', '/run/firewalld'], { reject: false })).exitCode).not.toBe(0);
  });

  it('rejects tailnet UDP in the default zone, which passed before firewalld ran', async () => {
    expect(before.arrived).toBe(true);
    expect(await fw!.cmd('--get-default-zone')).toBe('public');
    expect(await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 5555 })).toEqual({ arrived: false });
  });

  it('writes permanent changes into the private copy of /etc/firewalld, never the host\'s', async () => {
    await fw!.cmd('--permanent', '--zone=public', '--add-port=5555/udp');
    expect(readFileSync(join(fw!.etcDir, 'zones', 'public.xml'), 'utf8')).toContain('port="5555"');
    await fw!.cmd('--reload');
    expect(await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 5555 })).toMatchObject({ arrived: true });
    expect(treeDigest('/etc/firewalld')).toBe(hostEtc);
  });

  it('restarts firewalld in place: the permanent change is loaded again', async () => {
    await fw!.restart();
    expect(await fw!.cmd('--zone=public', '--list-ports')).toBe('5555/udp');
  });
});
