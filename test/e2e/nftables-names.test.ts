import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfw } from '../helpers/cli.js';
import type { ConvergeReport } from '../helpers/cli.js';
import { cliEnv, tableText } from '../helpers/daemon.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * A table named like an nft keyword: tsfw talks to nft in JSON only (writes and its one read), so
 * what validates applies; nft's text parser would read `list table inet counter` as a keyword.
 */
describe('nftables.table named like an nft keyword', () => {
  let ns: Netns;
  let runDir: string;
  beforeAll(async () => {
    ns = await createNetns('tsfwname');
    runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
  });
  afterAll(async () => {
    await ns?.destroy();
    rmSync(runDir, { recursive: true, force: true });
  });

  it.each(['counter', 'drop', 'ip', 'meta', 'tcp', 'jump'])('table %s: apply creates it, reconcile finds nothing to do, off removes it', async (table) => {
    const cfg = tempConfig({ backend: 'nftables', nftables: { table } });
    try {
      const env = cliEnv(runDir);
      const apply = await tsfw<ConvergeReport>(ns, ['apply', '-c', cfg.path, '--json'], env);
      expect(apply.exitCode, apply.stderr).toBe(0);
      expect(apply.json?.changed).toBe(true);
      const text = await tableText(ns, table);
      // nft itself cannot list a keyword-named table by name; its whole ruleset shows it.
      expect(text).toBe('<absent>');
      expect(await ns.exec('nft', ['list', 'ruleset'])).toMatchObject({ stdout: expect.stringContaining(`table inet ${table} {`) });
      const again = await tsfw<ConvergeReport>(ns, ['reconcile', '-c', cfg.path, '--json'], env);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.json?.changed).toBe(false);
      const status = await tsfw(ns, ['status', '-c', cfg.path], env);
      expect(status.exitCode, status.stderr).toBe(0);
      const off = await tsfw(ns, ['apply', '--mode', 'off', '--no-save', '-c', cfg.path], env);
      expect(off.exitCode, off.stderr).toBe(0);
      expect((await ns.exec('nft', ['list', 'ruleset'])).stdout).not.toContain(`table inet ${table}`);
    } finally {
      cfg.remove();
      await ns.sh('nft flush ruleset');
    }
  });
});
