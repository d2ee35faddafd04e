import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, StatusReport, TempConfig } from '../helpers/cli.js';
import type { Netns } from '../helpers/netns.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';

/**
 * Connmark under strict rp_filter, with real packets. The router gets Tailscale's policy routing
 * (rule 5210 `fwmark 0x80000/0xff0000 lookup main`, rule 5270 `lookup 52`, table 52 default via
 * tailscale0) and rp_filter = 1. A router socket with SO_MARK 0x80000 (tailscaled's bypass mark)
 * sends to the WAN host, which echoes. The reply arrives unmarked on wan0: the reverse-path check
 * looks its source up in table 52 (tailscale0) and drops it, unless tsfw's connmark rules put the
 * saved mark back in prerouting and src_valid_mark makes the check use it.
 *
 * Beside it, the admin's own nft table sets a packet-mark bit (0x1) and a conntrack-mark bit (0x2)
 * outside the mask; counters after tsfw's mangle priority prove both survive the copies.
 */

const ECHO_PORT = 7400;
/** The WAN host: echoes every datagram back to its sender. */
const ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1])))
print('ready', flush=True)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
`;
/** A marked socket on the router: prints `reply` or `timeout`. SO_MARK is 36 on Linux. */
const MARKED_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 36, int(sys.argv[3], 0))
s.settimeout(float(sys.argv[4]))
s.sendto(b'ping', (sys.argv[1], int(sys.argv[2])))
try:
    s.recvfrom(2048)
    print('reply')
except socket.timeout:
    print('timeout')
`;

/** The admin's table: bits outside tsfw's mask, set before tsfw's mangle chains and counted after. */
const ADMIN_TABLE = `
table inet admin {
  counter packet_bit_kept {}
  counter ct_bit_kept {}
  chain pre_raw { type filter hook prerouting priority -300; policy accept;
    iifname "wan0" udp sport ${ECHO_PORT} meta mark set meta mark | 0x1
  }
  chain out_before_mangle { type filter hook output priority -160; policy accept;
    ct state new udp dport ${ECHO_PORT} ct mark set ct mark | 0x2
  }
  chain pre_after_mangle { type filter hook prerouting priority -100; policy accept;
    iifname "wan0" udp sport ${ECHO_PORT} meta mark 0x80001 counter name packet_bit_kept
    iifname "wan0" udp sport ${ECHO_PORT} ct mark 0x80002 counter name ct_bit_kept
  }
}
`;

const SRC_VALID_MARK = '/proc/sys/net/ipv4/conf/all/src_valid_mark';

describe.each(['nftables', 'iptables-nft', 'iptables-legacy'] as const)('connmark under strict rp_filter on %s', (backend) => {
  let net: Router;
  let cfg: TempConfig;
  let runDir: string;
  let echo: ResultPromise;
  const env = () => ({ TSFW_RUN_DIR: runDir });
  const reply = async (): Promise<'reply' | 'timeout'> => {
    const { stdout } = await net.router.exec('python3', ['-c', MARKED_CLIENT, ADDR.wanHost, String(ECHO_PORT), '0x80000', '1.5']);
    return stdout.trim() as 'reply' | 'timeout';
  };
  const counter = async (ns: Netns, name: string) =>
    Number(/packets (\d+)/.exec(await ns.sh(`nft list counter inet admin ${name}`))?.[1] ?? NaN);
  const srcValidMark = async () => (await net.router.sh(`cat ${SRC_VALID_MARK}`)).trim();

  beforeAll(async () => {
    net = await createRouter();
    runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
    await net.router.sh([
      'sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.wan0.rp_filter=1',
      'ip rule add pref 5210 fwmark 0x80000/0xff0000 lookup main',
      'ip rule add pref 5270 lookup 52',
      'ip route add default dev tailscale0 table 52',
    ].join(' && '));
    await net.router.sh(`nft -f - <<'EOF'\n${ADMIN_TABLE}\nEOF`);
    echo = execa('ip', ['netns', 'exec', net.wan.name, 'python3', '-c', ECHO, String(ECHO_PORT)], { reject: false, buffer: false });
    await new Promise<void>((resolve, reject) => {
      echo.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      echo.once('exit', () => reject(new Error('echo server exited')));
    });
    cfg = tempConfig({ backend });
  });
  afterAll(async () => {
    echo?.kill('SIGKILL');
    await echo?.catch(() => undefined);
    await net?.destroy();
    cfg?.remove();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('without tsfw the reply to the marked socket is dropped by rp_filter', async () => {
    expect(await srcValidMark()).toBe('0');
    expect(await reply()).toBe('timeout');
  });

  it('with the default config in mode on it is received, and mark bits outside the mask survive on packet and connection', async () => {
    const report = await tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', 'on', '-c', cfg.path], env());
    expect(report).toMatchObject({ changed: true, backend, mode: 'on' });
    expect(report.sysctls).toEqual([expect.objectContaining({ key: 'net.ipv4.conf.all.src_valid_mark', from: '0', to: '1' })]);
    expect(await srcValidMark()).toBe('1');
    const before = { packet: await counter(net.router, 'packet_bit_kept'), ct: await counter(net.router, 'ct_bit_kept') };
    expect(await reply()).toBe('reply');
    expect(await counter(net.router, 'packet_bit_kept')).toBeGreaterThan(before.packet);
    expect(await counter(net.router, 'ct_bit_kept')).toBeGreaterThan(before.ct);
    const status = await tsfwJson<StatusReport & { sysctls: { key: string; value: string; setByTsfw: boolean; was?: string }[] }>(
      net.router, ['status', '--json', '-c', cfg.path], env());
    expect(status.sysctls).toEqual([expect.objectContaining({ key: 'net.ipv4.conf.all.src_valid_mark', value: '1', setByTsfw: true, was: '0' })]);
    expect(status.converged).toBe(true);
    expect((await tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', 'on', '-c', cfg.path], env())).changed).toBe(false);
  });

  it('connmark: off keeps the reply dropped (the rules are what lets it through) and puts src_valid_mark back', async () => {
    cfg.write({ backend, connmark: 'off' });
    const report = await tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', 'on', '-c', cfg.path], env());
    expect(report.sysctls).toEqual([expect.objectContaining({ from: '1', to: '0' })]);
    expect(await srcValidMark()).toBe('0');
    expect(await reply()).toBe('timeout');
  });

  it("mode off removes the rules and restores src_valid_mark; an admin's own value is never claimed", async () => {
    cfg.write({ backend });
    await tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', 'on', '-c', cfg.path], env());
    expect(await srcValidMark()).toBe('1');
    const off = await tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', 'off', '-c', cfg.path], env());
    expect(off.sysctls).toEqual([expect.objectContaining({ from: '1', to: '0' })]);
    expect(await srcValidMark()).toBe('0');
    // The admin sets it themselves: tsfw neither records nor later resets it.
    await net.router.sh(`echo 1 > ${SRC_VALID_MARK}`);
    expect((await tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', 'on', '-c', cfg.path], env())).sysctls).toEqual([]);
    expect((await tsfwJson<ConvergeReport>(net.router, ['cleanup', '-c', cfg.path], env())).sysctls).toEqual([]);
    expect(await srcValidMark()).toBe('1');
  });
});
