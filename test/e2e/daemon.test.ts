import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../src/config/schema.js';
import { createProcessRunner, inNetnsSpawner } from '../../src/exec/runner.js';
import type { SpawnedChild } from '../../src/exec/runner.js';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { configOf, isConverged, median, startTsfwDaemon } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { createNetns, uniqueName } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * The daemon repairs tampering, measured from the tamper command's return to a converged table.
 * A test-side `nft -j monitor` timestamps the kernel's notification of every change, so "when
 * the table was converged again" is the arrival of the repair transaction's last event; each
 * result is confirmed by observe + plan with the in-process backend (whose finishing time is
 * reported too, as an upper bound that includes the observer's own process start-ups).
 */

interface Watch {
  readonly events: { at: number; line: string }[];
  stop(): Promise<void>;
}

async function watchEvents(ns: Netns): Promise<Watch> {
  const events: { at: number; line: string }[] = [];
  const child: SpawnedChild = inNetnsSpawner(createProcessRunner(), ns.name).spawn('nft', ['-j', 'monitor'], (line) => {
    events.push({ at: performance.now(), line });
  });
  await new Promise((r) => setTimeout(r, 200)); // let nft subscribe
  return {
    events,
    async stop() {
      child.kill('SIGKILL');
      await child.exited;
    },
  };
}

interface Sample {
  readonly name: string;
  /** Tamper return → last event of the repair (the table is converged from then on). */
  readonly commitMs: number;
  /** Tamper return → an observe + plan confirmed convergence. */
  readonly confirmMs: number;
}

async function measure(ns: Netns, daemon: DaemonProcess, watch: Watch, config: ReturnType<typeof configOf>, name: string, tamper: string): Promise<Sample> {
  const repairsBefore = daemon.state()!.repairs.total;
  await ns.sh(tamper);
  const t0 = performance.now();
  const deadline = t0 + 5_000;
  for (;;) {
    const ok = await isConverged(ns, config);
    const checked = performance.now();
    if (ok) {
      // The tamper really changed something: the daemon counted a repair for it.
      await daemon.waitFor(`a repair after "${name}"`, () => daemon.state()!.repairs.total > repairsBefore, 5_000);
      const last = watch.events.filter((e) => e.at > t0 && e.at <= checked).at(-1);
      return { name, commitMs: last ? last.at - t0 : 0, confirmMs: checked - t0 };
    }
    if (checked > deadline) throw new Error(`"${name}" was not repaired within 5 s`);
  }
}

/** Lets the daemon finish its verification read and follow-up pass before the next tamper. */
const settle = () => new Promise((r) => setTimeout(r, 150));

function report(title: string, samples: readonly Sample[]): void {
  const commit = samples.map((s) => s.commitMs);
  const confirm = samples.map((s) => s.confirmMs);
  const rows = samples.map((s) => `  ${s.name.padEnd(48)} ${s.commitMs.toFixed(1).padStart(7)} ms  (confirmed ${s.confirmMs.toFixed(1)} ms)`);
  console.log([
    `${title}: ${samples.length} repairs`,
    ...rows,
    `  tamper → converged: median ${median(commit).toFixed(1)} ms, max ${Math.max(...commit).toFixed(1)} ms;`
      + ` confirmed by observe+plan: median ${median(confirm).toFixed(1)} ms, max ${Math.max(...confirm).toFixed(1)} ms`,
  ].join('\n'));
}

/** Shell: the handle of the first tsfw rule in a chain (rules carry a comment; the chain line does not). */
const ruleHandle = (chain: string) => `nft -a list chain inet tsfw ${chain} | sed -n 's/.*comment ".*" # handle \\([0-9]*\\)$/\\1/p' | head -n 1`;

const NFT_TAMPERS: readonly (readonly [string, string])[] = [
  ['nft flush ruleset', 'nft flush ruleset'],
  ['delete the table', 'nft delete table inet tsfw'],
  ['flush a ts chain', 'nft flush chain inet tsfw ts-input'],
  ['delete one rule', `nft delete rule inet tsfw ts-forward handle $(${ruleHandle('ts-forward')})`],
  ['delete a base chain', 'nft delete chain inet tsfw tsfw-filter-input'],
  ['insert a rogue rule into a ts chain', 'nft insert rule inet tsfw ts-input counter accept'],
  ['re-register a base chain at another priority', "printf 'delete chain inet tsfw tsfw-filter-forward\\nadd chain inet tsfw tsfw-filter-forward { type filter hook forward priority 0; policy accept; }\\n' | nft -f -"],
  ['edit a rule in place', `nft replace rule inet tsfw ts-input handle $(${ruleHandle('ts-input')}) udp dport 9 accept`],
  ['set a base chain policy to drop', "nft 'chain inet tsfw tsfw-filter-input { policy drop; }'"],
];

const IPT_TAMPERS = (bin: string, bin6: string): readonly (readonly [string, string])[] => [
  ['delete the INPUT jump', `${bin} -D INPUT -m comment --comment tsfw:jump -j ts-input`],
  ['demote the FORWARD jump', `${bin} -I FORWARD 1 -i lo -j ACCEPT`],
  ['delete the IPv6 INPUT jump', `${bin6} -D INPUT -m comment --comment tsfw:jump -j ts-input`],
  ['flush a ts chain', `${bin} -F ts-input`],
  ['delete one rule', `${bin} -D ts-forward 2`],
  ['insert a rogue rule into a ts chain', `${bin} -I ts-input 1 -j ACCEPT`],
  ['delete a ts chain', `${bin} -D FORWARD -m comment --comment tsfw:jump -j ts-forward && ${bin} -F ts-forward && ${bin} -X ts-forward`],
  ['flush the nat table', `${bin} -t nat -F`],
  ['flush and delete every filter chain', `${bin} -F && ${bin} -X`],
];

describe('tsfw daemon repairs tampering', () => {
  let ns: Netns;
  let cfg: TempConfig | undefined;
  let daemon: DaemonProcess | undefined;
  let watch: Watch | undefined;

  beforeAll(async () => {
    ns = await createNetns('tsfwd');
  });
  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    if (daemon) expect(await daemon.stop()).toBe(0);
    daemon = undefined;
    cfg?.remove();
    await ns.sh('nft flush ruleset; iptables-legacy -F; iptables-legacy -X; iptables-legacy -t nat -F; iptables-legacy -t nat -X; ip6tables-legacy -F; ip6tables-legacy -X; ip6tables-legacy -t nat -F; ip6tables-legacy -t nat -X; true');
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  const start = async (input: ConfigInput, env: Record<string, string> = {}) => {
    cfg = tempConfig(input);
    daemon = await startTsfwDaemon(ns, cfg.path, env);
    return configOf(stringify(input));
  };

  it('nftables, events only (yearly schedule): every tamper repaired within 1 s, median under 50 ms', async () => {
    const config = await start({ backend: 'nftables', reconcile: { schedule: '0 0 0 1 1 *', burst: 1000, refillPerMinute: 6000 } });
    watch = await watchEvents(ns);
    const samples: Sample[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [name, tamper] of NFT_TAMPERS) {
        samples.push(await measure(ns, daemon!, watch, config, name, tamper));
        await settle();
      }
    }
    report('nftables (events only)', samples);
    const state = daemon!.state()!;
    // Every repair came from an event: the yearly schedule never ran.
    expect(state.repairs.byCause).toEqual({ startup: 1, event: samples.length });
    for (const s of samples) expect(s.confirmMs, s.name).toBeLessThanOrEqual(1_000);
    expect(median(samples.map((s) => s.commitMs))).toBeLessThan(50);
    // One log line per repair, naming what drifted and what was done.
    const repairs = daemon!.logs.filter((l) => l.msg === 'netfilter drift repaired');
    expect(repairs).toHaveLength(samples.length + 1);
    for (const line of repairs) expect(line).toMatchObject({ drift: expect.any(Array), actions: expect.any(Array), cause: expect.any(String) });
    // Quiet passes stay below info.
    expect(daemon!.logs.filter((l) => (l.level as number) >= 30 && String(l.msg).includes('nothing to do'))).toEqual([]);
  }, 120_000);

  it('changes in unrelated tables cause no pass and no write', async () => {
    await start({ backend: 'nftables', reconcile: { schedule: '0 0 0 1 1 *' } });
    watch = await watchEvents(ns);
    await settle();
    const before = daemon!.state()!;
    const seen = watch.events.length;
    await ns.sh('nft add table ip other && nft add chain ip other c && nft add rule ip other c counter accept && nft add table inet tsfw2 && nft delete table ip other');
    await new Promise((r) => setTimeout(r, 500));
    const after = daemon!.state()!;
    expect(after.passes.total).toBe(before.passes.total);
    expect(after.repairs.total).toBe(before.repairs.total);
    const ours = watch.events.slice(seen).filter((e) => /"(table|name)": "tsfw"/.test(e.line));
    expect(ours).toEqual([]);
  });

  it('iptables-nft: the same kinds of tamper, the jump deleted or demoted, repaired from events within 1 s', async () => {
    const config = await start({ backend: 'iptables-nft', reconcile: { schedule: '0 0 0 1 1 *', burst: 1000, refillPerMinute: 6000 } });
    watch = await watchEvents(ns);
    const samples: Sample[] = [];
    for (const [name, tamper] of [...IPT_TAMPERS('iptables-nft', 'ip6tables-nft'), ['nft flush ruleset', 'nft flush ruleset'] as const]) {
      samples.push(await measure(ns, daemon!, watch, config, name, tamper));
      await settle();
    }
    report('iptables-nft (events only)', samples);
    expect(daemon!.state()!.repairs.byCause).toEqual({ startup: 1, event: samples.length });
    for (const s of samples) expect(s.confirmMs, s.name).toBeLessThanOrEqual(1_000);
  }, 120_000);

  it('iptables-legacy (no kernel events): the same tampers repaired within one schedule period', async () => {
    const periodMs = 2_000;
    const config = await start({ backend: 'iptables-legacy', reconcile: { schedule: '*/2 * * * * *', burst: 1000, refillPerMinute: 6000 } });
    watch = await watchEvents(ns);
    const samples: Sample[] = [];
    for (const [name, tamper] of IPT_TAMPERS('iptables-legacy', 'ip6tables-legacy')) {
      const sample = await measure(ns, daemon!, watch, config, name, tamper);
      samples.push(sample);
      // Due at the next tick; the pass itself (iptables-save/restore per family) comes on top.
      const pass = daemon!.state()!.lastRepair!.durationMs;
      expect(sample.confirmMs, `${name}: ${sample.confirmMs.toFixed(0)} ms, pass ${pass} ms`).toBeLessThanOrEqual(periodMs + pass + 300);
      await settle();
    }
    report(`iptables-legacy (schedule every ${periodMs / 1000} s)`, samples.map((s) => ({ ...s, commitMs: s.confirmMs })));
    expect(daemon!.state()!.repairs.byCause).toEqual({ startup: 1, schedule: samples.length });
  }, 120_000);

  it('tells systemd READY=1 after the first pass, WATCHDOG=1 with STATUS= after passes, STOPPING=1 on SIGTERM', async () => {
    const socket = join(tmpdir(), `${uniqueName('tsfw-notify')}.sock`);
    const listener = execa('python3', ['-u', '-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("ready", flush=True)',
      'while True: print(s.recv(4096).decode().replace("\\n", "|"), flush=True)',
    ].join('\n'), socket], { reject: false, buffer: false });
    const messages: { at: number; text: string }[] = [];
    createInterface({ input: listener.stdout! }).on('line', (text) => messages.push({ at: Date.now(), text }));
    try {
      const deadline = Date.now() + 10_000;
      while (!messages.some((m) => m.text === 'ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await start({ backend: 'nftables' }, { NOTIFY_SOCKET: socket });
      const ready = await daemon!.waitFor('READY=1', () => messages.find((m) => m.text.includes('READY=1')));
      expect(ready.text).toContain('WATCHDOG=1');
      expect(ready.text).toMatch(/STATUS=mode on on nftables, 1 repair\(s\); last .*: table inet tsfw is missing/);
      // The table was complete when readiness was announced.
      expect(await isConverged(ns, configOf('backend: nftables'))).toBe(true);
      await ns.sh('nft flush chain inet tsfw ts-forward');
      await daemon!.waitFor('a STATUS naming the repair', () => messages.find((m) => /STATUS=.*2 repair\(s\).*ts-forward/.test(m.text)));
      const d = daemon!;
      daemon = undefined;
      expect(await d.stop()).toBe(0);
      // systemd-notify follows each message with a BARRIER=1 of its own.
      expect(messages.filter((m) => m.text !== 'BARRIER=1').at(-1)?.text).toMatch(/STOPPING=1/);
    } finally {
      listener.kill('SIGKILL');
      await listener;
      rmSync(socket, { force: true });
    }
  }, 60_000);
});
