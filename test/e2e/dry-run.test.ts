import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfw, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * `apply --dry-run` shows the exact process calls and stdin a write sends: the same calls that
 * `apply` then reports, and feeding them by hand into another namespace gives the same kernel state.
 */

/** The kernel state, comparable across namespaces: handles and counters dropped. */
async function kernelState(ns: Netns): Promise<string> {
  const nft = await ns.exec('nft', ['list', 'ruleset'], { reject: false });
  const save = await ns.exec('iptables-nft-save', [], { reject: false });
  const save6 = await ns.exec('ip6tables-nft-save', [], { reject: false });
  return [nft.stdout, save.stdout, save6.stdout].join('\n')
    .replace(/ # handle \d+/g, '')
    .replace(/counter packets \d+ bytes \d+/g, 'counter')
    .replace(/\[\d+:\d+\]/g, '[0:0]')
    .replace(/^#.*$/gm, '');
}

describe('tsfw apply --dry-run', () => {
  let ns: Netns;
  let byHand: Netns;
  let cfg: TempConfig | undefined;

  beforeAll(async () => {
    [ns, byHand] = await Promise.all([createNetns('tsfwdry'), createNetns('tsfwhand')]);
  });
  afterEach(async () => {
    cfg?.remove();
    cfg = undefined;
    for (const n of [ns, byHand]) await n.sh('nft flush ruleset');
  });
  afterAll(async () => {
    await Promise.all([ns?.destroy(), byHand?.destroy()]);
  });

  it.each(['nftables', 'iptables-nft'] as const)('%s: prints exactly what apply then writes, and that input alone builds the same state', async (backend) => {
    cfg = tempConfig({ backend, families: ['ip', 'ip6'] });
    const dry = await tsfwJson<ConvergeReport>(ns, ['apply', '--dry-run', '-c', cfg.path]);
    expect(dry.dryRun).toBe(true);
    expect(dry.writes.length).toBeGreaterThan(0);
    expect(await kernelState(ns)).toBe(await kernelState(byHand)); // the dry run wrote nothing

    const human = await tsfw(ns, ['apply', '--dry-run', '-c', cfg.path]);
    expect(human.exitCode, human.stderr).toBe(0);
    for (const w of dry.writes) {
      expect(human.stdout).toContain(`would run: ${[w.file, ...w.args].join(' ')} with stdin:\n${w.input.replace(/\n$/, '')}`);
    }

    const applied = await tsfwJson<ConvergeReport>(ns, ['apply', '-c', cfg.path]);
    expect(applied.writes).toEqual(dry.writes);

    // Through the production runner: `nft -f -` cannot open /dev/stdin on a Node pipe (ENXIO).
    for (const w of dry.writes) await byHand.runner.run(w.file, w.args, { input: w.input });
    expect(await kernelState(byHand)).toBe(await kernelState(ns));
    // And nothing is left to do after either.
    expect((await tsfwJson<ConvergeReport>(ns, ['apply', '--dry-run', '-c', cfg.path])).writes).toEqual([]);
  }, 60_000);
});
