import { describe, expect, it } from 'vitest';
import { Config } from '../config/schema.js';
import { ExecError } from '../exec/errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { ConvergeResult } from '../reconcile/converge.js';
import { ALL_BACKENDS, cleanupBackends, withLeftovers } from './leftovers.js';

const config = Config.parse({});
const SAVED = '*filter\n:INPUT ACCEPT [0:0]\n:ts-input - [0:0]\n-A INPUT -m comment --comment "tsfw:jump" -j ts-input\nCOMMIT\n';

/** Only iptables-nft is "installed", holding a leftover ts-input and its jump. */
function onlyIptablesNft() {
  const writes: string[] = [];
  const runner: CommandRunner = {
    async run(file, args, options) {
      const command = [file, ...args].join(' ');
      if (command === 'iptables-nft-save -c -t filter') return { stdout: SAVED, stderr: '', exitCode: 0 };
      if (file.startsWith('ip') && file.includes('-nft-save')) return { stdout: '', stderr: '', exitCode: 0 };
      if (file === 'iptables-nft-restore') {
        writes.push(options?.input ?? '');
        return { stdout: '', stderr: '', exitCode: 0 };
      }
      throw new ExecError('not-found', command, undefined, `${file}: not installed`);
    },
  };
  return { runner, writes };
}

describe('cleanup across backends', () => {
  it('removes leftovers where they are and skips, with a note, what is not installed or not loaded', async () => {
    const { runner, writes } = onlyIptablesNft();
    const out = await cleanupBackends(ALL_BACKENDS, config, runner, { exists: () => false, procNet: '/fake' });
    expect(out.map((c) => [c.backend, c.status])).toEqual([['nftables', 'skipped'], ['iptables-nft', 'removed'], ['iptables-legacy', 'skipped']]);
    expect(out[2]!.note).toBe('/fake/ip_tables_names absent: x_tables not loaded, nothing to remove');
    expect(writes).toEqual(['*filter\n-D INPUT -m comment --comment "tsfw:jump" -j ts-input\n-X ts-input\nCOMMIT\n']);
  });

  it('a dry run plans but writes nothing', async () => {
    const { runner, writes } = onlyIptablesNft();
    const [nft] = await cleanupBackends(['iptables-nft'], config, runner, { dryRun: true });
    expect(nft!.status).toBe('removed');
    expect(writes).toEqual([]);
  });

  it('folds removed leftovers into the active result as a change, tagged with the backend', () => {
    const base: ConvergeResult = { changed: false, dryRun: false, writes: [], sysctls: [], integrations: [], mode: 'on', backend: 'nftables', actions: [], drift: [], warnings: [], durationMs: 1 };
    const merged = withLeftovers(base, [
      { backend: 'iptables-legacy', status: 'removed', actions: [{ op: 'delete-chain', family: 'ip', table: 'filter', chain: 'ts-input', reason: 'not wanted in mode off' }], writes: [{ file: 'iptables-legacy-restore', args: ['--noflush'], input: '*filter\n-X ts-input\nCOMMIT\n' }], drift: [], warnings: [] },
      { backend: 'iptables-nft', status: 'failed', note: 'iptables-nft: boom', actions: [], writes: [], drift: [], warnings: [] },
    ]);
    expect(merged.changed).toBe(true);
    expect(merged.actions[0]!.reason).toBe('[iptables-legacy] leftover: not wanted in mode off');
    expect(merged.writes.map((w) => w.file)).toEqual(['iptables-legacy-restore']);
    expect(merged.warnings).toEqual(['leftover check failed: iptables-nft: boom']);
    expect(withLeftovers(base, [{ backend: 'nftables', status: 'clean', actions: [], writes: [], drift: [], warnings: [] }]).changed).toBe(false);
  });
});
