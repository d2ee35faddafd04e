import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desiredIptTables } from '../../src/backends/iptables/render.js';
import { Config } from '../../src/config/schema.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { Family } from '../../src/model/types.js';
import { rulesetFor } from '../../src/profiles/load.js';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * iptables-nft beside other programs' chains (Docker, ufw, Kubernetes leave thousands of rules in
 * their own chains of filter and nat): tsfw reads only its ts-* chains and the built-in chains
 * (`iptables-nft -v -S CHAIN`), never the admin's chains and never those tables whole, and still
 * repairs every kind of drift and leaves the admin's rules byte-identical. The iptables binaries
 * are wrapped by logging shims on tsfw's PATH, so the test sees which reads a pass makes.
 */

const TOOLS = ['iptables-nft', 'ip6tables-nft', 'iptables-nft-save', 'ip6tables-nft-save'] as const;
const bin = (family: Family, tool = '') => `${family === 'ip' ? 'iptables' : 'ip6tables'}-nft${tool}`;

describe('iptables-nft reads per chain beside foreign chains', () => {
  let ns: Netns;
  let cfg: TempConfig;
  let shims: string;
  const input: ConfigInput = { backend: 'iptables-nft', connmark: 'on', mssClamp: true };
  const log = () => readFileSync(join(shims, 'log'), 'utf8').split('\n').filter(Boolean);
  const clearLog = () => writeFileSync(join(shims, 'log'), '');
  const env = () => ({ PATH: `${shims}:${process.env.PATH ?? ''}` });
  const apply = (mode: string) => tsfwJson<ConvergeReport>(ns, ['apply', '--mode', mode, '-c', cfg.path], env());
  const reconcile = () => tsfwJson<ConvergeReport>(ns, ['reconcile', '-c', cfg.path], env());
  const ipt = (args: string, family: Family = 'ip') => ns.sh(`${bin(family)} -w ${args}`);
  const save = async (family: Family, table: string) => (await ns.exec(bin(family, '-save'), ['-t', table])).stdout.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':'));
  const admin = async () => Promise.all((['ip', 'ip6'] as const).flatMap((f) => ['filter', 'nat'].map(async (t) => (await save(f, t)).filter((l) => !/ts-|tsfw:/.test(l)))));

  beforeEach(async () => {
    ns = await createNetns('tsfwpc');
    cfg = tempConfig(input);
    shims = mkdtempSync(join(tmpdir(), 'tsfw-shims-'));
    writeFileSync(join(shims, 'log'), '');
    for (const tool of TOOLS) {
      const real = (await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      writeFileSync(join(shims, tool), `#!/bin/sh\necho "${tool} $*" >> '${join(shims, 'log')}'\nexec '${real}' "$@"\n`);
      chmodSync(join(shims, tool), 0o755);
    }
    // The admin's chains, as a container runtime leaves them: 300 rules in filter, 30 in nat, per family.
    for (const family of ['ip', 'ip6'] as const) {
      const src = (i: number) => (family === 'ip' ? `198.51.100.${(i % 250) + 1}/32` : `2001:db8::${(i % 250) + 1}/128`);
      const lines = ['*filter', ':ADMIN - [0:0]', '-A FORWARD -j ADMIN'];
      for (let i = 0; i < 300; i++) lines.push(`-A ADMIN -s ${src(i)} -p tcp -m tcp --dport ${1024 + i} -j ACCEPT`);
      lines.push('COMMIT', '*nat', ':ADMIN-NAT - [0:0]', '-A PREROUTING -j ADMIN-NAT');
      for (let i = 0; i < 30; i++) lines.push(`-A ADMIN-NAT -s ${src(i)} -p tcp -m tcp --dport ${2048 + i} -j RETURN`);
      lines.push('COMMIT', '');
      await ns.exec(`${bin(family)}-restore`, ['--noflush'], { input: lines.join('\n') });
    }
  });
  afterEach(async () => {
    await ns?.destroy();
    cfg?.remove();
    if (shims) rmSync(shims, { recursive: true, force: true });
  });

  it('a converged reconcile lists only built-in and ts-* chains of filter and nat, never an admin chain or those tables whole', async () => {
    expect((await apply('on')).changed).toBe(true);
    clearLog();
    expect((await reconcile()).changed).toBe(false);
    const reads = log();
    expect(reads.some((l) => /-nft-save .*-t (filter|nat)/.test(l))).toBe(false);
    expect(reads.some((l) => /ADMIN/.test(l))).toBe(false);
    for (const family of ['ip', 'ip6'] as const) {
      for (const chain of ['INPUT', 'FORWARD', 'ts-input', 'ts-forward']) expect(reads).toContain(`${bin(family)} -t filter -w -v -S ${chain}`);
      for (const chain of ['PREROUTING', 'POSTROUTING', 'ts-postrouting']) expect(reads).toContain(`${bin(family)} -t nat -w -v -S ${chain}`);
    }
  });

  it("repairs every kind of drift from the per-chain read and leaves the admin's rules byte-identical", async () => {
    await apply('on');
    const before = await admin();
    const tampers = [
      '-D INPUT -m comment --comment tsfw:jump -j ts-input',
      '-F ts-input',
      '-R ts-input 2 -i eth9 -m comment --comment tsfw:ts-input/tunnel-accept -j ACCEPT',
      '-I INPUT 1 -s 203.0.113.7/32 -j ACCEPT',
      '-A OUTPUT -m comment --comment tsfw:jump -j ts-input',
      '-t nat -D POSTROUTING -m comment --comment tsfw:jump -j ts-postrouting',
      '-A ts-forward -s 192.0.2.9/32 -j ACCEPT',
      '-t mangle -F ts-clamp',
    ];
    for (const tamper of tampers) {
      await ipt(tamper);
      clearLog();
      expect((await reconcile()).changed, tamper).toBe(true);
      expect(log().some((l) => /-nft-save .*-t (filter|nat)/.test(l)), tamper).toBe(false);
      expect((await reconcile()).changed, `${tamper}, second pass`).toBe(false);
    }
    for (const table of desiredIptTables(rulesetFor(Config.parse(input), 'on'))) {
      const text = await save(table.family, table.table);
      for (const chain of table.chains) expect(text.filter((l) => l.startsWith(`-A ${chain.name} `)), `${table.family} ${chain.name}`).toEqual(chain.rules.map((r) => r.line));
    }
    expect(await save('ip', 'filter')).not.toContain('-A OUTPUT -m comment --comment "tsfw:jump" -j ts-input');
    const after = await admin();
    // The only admin rule that changed is the one tampered in above the jump, which tsfw leaves in place.
    expect(after[0]!.filter((l) => !l.includes('203.0.113.7'))).toEqual(before[0]);
    expect(after.slice(1)).toEqual(before.slice(1));
  });

  it('nodivert and off beside the admin chains: a ts-* chain the admin jumps to is read with the whole table, flushed and kept', async () => {
    await apply('on');
    await ipt('-A ADMIN -i lan0 -j ts-input');
    const nodivert = await apply('nodivert');
    expect(nodivert.actions.filter((a) => a.op === 'delete-jump').length).toBeGreaterThan(0);
    expect((await reconcile()).changed).toBe(false);
    const off = await apply('off');
    expect(off.warnings.some((w) => w.includes("ts-input is still the target of the admin's rule in ADMIN"))).toBe(true);
    expect(await save('ip', 'filter')).toContain('-A ADMIN -i lan0 -j ts-input');
    expect((await save('ip6', 'filter')).some((l) => /ts-|tsfw:/.test(l))).toBe(false);
    expect((await apply('off')).changed).toBe(false);
  });
});
