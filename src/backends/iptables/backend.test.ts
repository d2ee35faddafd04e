import { describe, expect, it } from 'vitest';
import { Config } from '../../config/schema.js';
import { classifyFailure, ExecError } from '../../exec/errors.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../exec/runner.js';
import { rulesetFor } from '../../profiles/load.js';
import { createIptablesBackend } from './backend.js';

type Reply = CommandResult | ExecError | ((input?: string) => CommandResult | ExecError);

/** A scripted runner: replies per "file args" key (a list is consumed in order), records every call. */
function fakeRunner(replies: Record<string, Reply | Reply[]>) {
  const calls: { command: string; input?: string }[] = [];
  const runner: CommandRunner = {
    async run(file: string, args: readonly string[], options?: RunOptions) {
      const command = [file, ...args].join(' ');
      calls.push({ command, ...(options?.input === undefined ? {} : { input: options.input }) });
      const entry = replies[command];
      const reply = Array.isArray(entry) ? entry.shift() : entry;
      if (reply === undefined) throw new ExecError('not-found', command, undefined, `${file}: not installed`);
      const value = typeof reply === 'function' ? reply(options?.input) : reply;
      if (value instanceof ExecError) throw value;
      return value;
    },
  };
  return { runner, calls };
}

const ok = (stdout = ''): CommandResult => ({ stdout, stderr: '', exitCode: 0 });
const config = Config.parse({ connmark: 'off' });
const on = rulesetFor(config, 'on');
const sleeps: number[] = [];
const backend = (runner: CommandRunner, flavour: 'nft' | 'legacy' = 'nft') =>
  createIptablesBackend(runner, { flavour, families: ['ip', 'ip6'], jumpPosition: 'first', sleep: async (ms) => void sleeps.push(ms) });

describe('iptables backend (fake runner)', () => {
  it('reads iptables-nft per table when nft cannot list chains, and legacy without -t (naming a legacy table would create it)', async () => {
    const nftReplies = Object.fromEntries(['iptables', 'ip6tables'].flatMap((f) => ['filter', 'nat', 'mangle'].map((t) => [`${f}-nft-save -c -t ${t}`, ok()])));
    const a = fakeRunner(nftReplies);
    await backend(a.runner).observe(on);
    expect(a.calls.map((c) => c.command).sort()).toEqual([...Object.keys(nftReplies), 'nft -j list chains ip', 'nft -j list chains ip6'].sort());
    const b = fakeRunner({ 'iptables-legacy-save -c': ok(), 'ip6tables-legacy-save -c': ok() });
    await backend(b.runner, 'legacy').observe();
    expect(b.calls.map((c) => c.command)).toEqual(['iptables-legacy-save -c', 'ip6tables-legacy-save -c']);
  });

  it('writes one --noflush restore per family and table, and retries exit status 4 with backoff', async () => {
    sleeps.length = 0;
    const busy = classifyFailure('iptables-nft-restore --noflush -w 5', 4, 'Another app is currently holding the xtables lock.');
    const { runner, calls } = fakeRunner({
      'iptables-nft-restore --noflush -w 5': [busy, busy, ok(), ok()],
      'ip6tables-nft-restore --noflush -w 5': [ok(), ok()],
    });
    const b = backend(runner);
    const plan = b.plan(on, { families: [{ family: 'ip', tables: [] }, { family: 'ip6', tables: [] }] });
    await b.apply(plan);
    expect(sleeps).toEqual([100, 200]);
    expect(calls.filter((c) => c.command.startsWith('iptables-nft-restore'))).toHaveLength(4);
    expect(calls.map((c) => c.input?.split('\n', 1)[0])).toEqual(['*filter', '*filter', '*filter', '*nat', '*filter', '*nat']);
  });

  it('gives up on a lock that stays busy, with the busy error', async () => {
    sleeps.length = 0;
    const busy = () => classifyFailure('iptables-nft-restore --noflush -w 5', 4, 'lock');
    const { runner } = fakeRunner({ 'iptables-nft-restore --noflush -w 5': busy, 'ip6tables-nft-restore --noflush -w 5': ok });
    const b = createIptablesBackend(runner, { flavour: 'nft', families: ['ip'], jumpPosition: 'first', sleep: async (ms) => void sleeps.push(ms) });
    await expect(b.apply(b.plan(on, { families: [{ family: 'ip', tables: [] }] }))).rejects.toMatchObject({ kind: 'busy' });
    expect(sleeps).toEqual([100, 200, 400, 800]);
  });

  it('an IPv6 write failure never blocks IPv4: IPv4 is written, the error names ip6 and says ip converged', async () => {
    const { runner, calls } = fakeRunner({
      'iptables-nft-restore --noflush -w 5': [ok(), ok()],
      'ip6tables-nft-restore --noflush -w 5': classifyFailure('ip6tables-nft-restore --noflush -w 5', 2, 'ip6tables-restore: unable to initialize table'),
    });
    const b = backend(runner);
    const error = await b.apply(b.plan(on, { families: [{ family: 'ip', tables: [] }, { family: 'ip6', tables: [] }] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecError);
    expect((error as Error).message).toMatch(/ip6: .*unable to initialize table.*\(ip converged\)/);
    expect(calls.filter((c) => c.command.startsWith('iptables-nft-restore'))).toHaveLength(2);
  });

  it('an unreadable IPv6 family fails the pass even when IPv4 needs no write', async () => {
    const converged = rulesetFor(Config.parse({ connmark: 'off' }), 'off');
    const { runner } = fakeRunner({
      'iptables-nft-save -c -t filter': ok('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'),
      'iptables-nft-save -c -t nat': ok(),
      'iptables-nft-save -c -t mangle': ok(),
      'ip6tables-nft-save -c -t filter': ok("# Table `filter' is incompatible, use 'nft' tool.\n"),
      'ip6tables-nft-save -c -t nat': ok(),
      'ip6tables-nft-save -c -t mangle': ok(),
    });
    const b = backend(runner);
    const state = await b.observe();
    expect(state.families.find((f) => f.family === 'ip6')!.failure).toMatchObject({ kind: 'incompatible' });
    expect(() => b.plan(converged, state)).toThrow(/ip6: .*incompatible.*\(ip converged\)/);
  });

  it('incompatible on every family is a hard error from observe, never a rewrite', async () => {
    const bad = ok("# Table `filter' is incompatible, use 'nft' tool.\n");
    const { runner, calls } = fakeRunner({
      'iptables-nft-save -c -t filter': bad, 'iptables-nft-save -c -t nat': ok(), 'iptables-nft-save -c -t mangle': ok(),
      'ip6tables-nft-save -c -t filter': bad, 'ip6tables-nft-save -c -t nat': ok(), 'ip6tables-nft-save -c -t mangle': ok(),
    });
    await expect(backend(runner).observe()).rejects.toMatchObject({ kind: 'incompatible' });
    expect(calls.some((c) => c.command.includes('restore'))).toBe(false);
  });

  it('missing binaries: nothing of ours can exist, so off plans nothing; on fails at the write as not-found', async () => {
    const { runner } = fakeRunner({});
    const b = backend(runner);
    const state = await b.observe();
    expect(state.families.every((f) => f.unavailable)).toBe(true);
    expect(b.plan(rulesetFor(config, 'off'), state).ops).toEqual([]);
    await expect(b.apply(b.plan(on, state))).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('inspect lists chains, rules with counters, and the jumps of mode on', () => {
    const b = backend(fakeRunner({}).runner);
    const objects = b.inspect(on, { families: [{ family: 'ip', tables: [] }] });
    expect(objects.find((o) => o.rule === 'jump INPUT → ts-input')).toEqual({ family: 'ip', table: 'filter', chain: 'INPUT', rule: 'jump INPUT → ts-input', present: false });
    expect(objects.filter((o) => o.family === 'ip6' && o.rule === undefined).map((o) => o.chain)).toEqual(['ts-input', 'ts-forward', 'ts-postrouting']);
  });
});
