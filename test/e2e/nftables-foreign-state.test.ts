import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/model/types.js';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { loadForeignState, snapshotForeign } from '../helpers/foreign-state.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { recordNftEvents } from '../helpers/nft-monitor.js';

/**
 * A router that already has somebody else's firewall (native nft tables with policies and a set,
 * iptables-nft and iptables-legacy rules with DROP policies). Through every mode transition the
 * built CLI must change only `table inet tsfw`, and a repeated apply must write nothing at all.
 */

const TABLE = 'tsfw';

/** Whether an `nft -j monitor` line is about tsfw's table or an object inside it. */
function isOwnTableEvent(line: string): boolean {
  type Obj = { family?: string; table?: string; name?: string };
  const event = JSON.parse(line) as Record<string, Record<string, Obj>>;
  return Object.values(event).every((byKind) =>
    Object.entries(byKind).every(([kind, o]) => o.family === 'inet' && (kind === 'table' ? o.name : o.table) === TABLE));
}

describe('nftables backend next to a foreign ruleset', () => {
  let ns: Netns;
  let cfg: TempConfig;
  let baseline: Record<string, string>;

  const apply = (mode: Mode) => tsfwJson<ConvergeReport>(ns, ['apply', '--mode', mode, '-c', cfg.path]);
  /** tsfw's table with handles (a re-created object gets a new handle), or '' when absent. */
  const ownTable = async () => {
    const r = await ns.exec('nft', ['-a', 'list', 'table', 'inet', TABLE], { reject: false });
    return r.exitCode === 0 ? r.stdout : '';
  };

  /** The second apply of a mode: reports no change, and nf_tables sees no event at all. */
  const expectIdempotent = async (mode: Mode) => {
    const before = await ownTable();
    const { result, events } = await recordNftEvents(ns, () => apply(mode));
    expect(result).toMatchObject({ changed: false, mode, actions: [], drift: [] });
    expect(events).toEqual([]);
    expect(await ownTable()).toBe(before);
  };

  beforeAll(async () => {
    ns = await createNetns('tsfwf');
    // The foreign state has Docker's chains (DOCKER-USER, FORWARD DROP): with the Docker integration
    // on, mode on rightly adds tsfw's two tagged rules there (test/e2e/docker*.test.ts). This test is
    // about the backend alone touching nothing but its table, so the integrations stay off here.
    cfg = tempConfig({ backend: 'nftables', integrations: { firewalld: 'off', ufw: 'off', docker: 'off' } });
    await loadForeignState(ns);
    baseline = await snapshotForeign(ns, TABLE);
  });
  afterAll(async () => {
    await ns?.destroy();
    cfg?.remove();
  });

  it('the foreign baseline really holds tables, a set, rules and non-default policies', () => {
    expect(baseline.nft).toContain('set blocklist4');
    expect(baseline.nft).toContain('table ip nat');
    expect(baseline.nft).toContain('table inet firewalld');
    expect(baseline['iptables-nft-save']).toContain(':FORWARD DROP');
    expect(baseline['iptables-nft-save']).toContain('-A DOCKER-USER -s 203.0.113.0/24 -j RETURN');
    expect(baseline['ip6tables-nft-save']).toContain(':INPUT DROP');
    expect(baseline['iptables-legacy-save']).toContain(':OUTPUT DROP');
    expect(baseline['iptables-legacy-save']).toContain('-j MASQUERADE');
    expect(baseline['ip6tables-legacy-save']).toContain(':FORWARD DROP');
  });

  const steps: ReadonlyArray<readonly [from: string, to: Mode]> = [
    ['empty', 'off'], ['off', 'on'], ['on', 'nodivert'], ['nodivert', 'on'],
    ['on', 'off'], ['off', 'on'], ['on', 'off'],
  ];
  for (const [i, [from, to]] of steps.entries()) {
    it(`${i + 1}. ${from} → ${to}: only table inet ${TABLE} changes, and a second apply writes nothing`, async () => {
      const { result: report, events } = await recordNftEvents(ns, () => apply(to));
      expect(report).toMatchObject({ mode: to, backend: 'nftables', changed: from !== 'empty' });
      expect(events.length > 0).toBe(report.changed);
      expect(events.filter((e) => !isOwnTableEvent(e))).toEqual([]);
      expect(await snapshotForeign(ns, TABLE)).toEqual(baseline);

      const table = await ownTable();
      if (to === 'off') expect(table).toBe('');
      else expect(table).toMatch(/chain ts-input \{/);
      // Only `on` registers base chains at the hooks.
      expect(/hook input/.test(table)).toBe(to === 'on');

      await expectIdempotent(to);
    });
  }

  describe('an admin base chain inside tsfw\'s table that jumps to ts-input (how nodivert is wired)', () => {
    let adminChain: string;
    const listAdmin = async () => (await ns.exec('nft', ['-a', 'list', 'chain', 'inet', TABLE, 'admin-input'])).stdout;

    beforeAll(async () => {
      await apply('nodivert');
      await ns.exec('nft', ['add', 'chain', 'inet', TABLE, 'admin-input', '{ type filter hook input priority 0; policy accept; }']);
      await ns.exec('nft', ['add', 'rule', 'inet', TABLE, 'admin-input', 'jump', 'ts-input']);
      adminChain = await listAdmin();
      expect(adminChain).toMatch(/jump ts-input # handle \d+/);
    });

    const cycle: ReadonlyArray<readonly [Mode, boolean]> = [['nodivert', false], ['on', true], ['nodivert', true]];
    for (const [mode, changes] of cycle) {
      it(`apply --mode ${mode} → admin-input is kept exactly (same handles), nothing else foreign changes`, async () => {
        const report = await apply(mode);
        expect(report.changed).toBe(changes);
        expect(await listAdmin()).toBe(adminChain);
        expect(await snapshotForeign(ns, TABLE)).toEqual(baseline);
        await expectIdempotent(mode);
      });
    }

    it('apply --mode off → keeps the table and admin-input, flushes ts-input, deletes the rest, warns', async () => {
      const report = await apply('off');
      expect(report.changed).toBe(true);
      expect(report.warnings.some((w) => w.includes('admin-input'))).toBe(true);
      expect(report.warnings.some((w) => w.includes('ts-input'))).toBe(true);
      expect(report.actions).toContainEqual(expect.objectContaining({ op: 'flush-chain', chain: 'ts-input' }));
      expect(await listAdmin()).toBe(adminChain);

      const table = await ownTable();
      expect(table).toMatch(/chain ts-input \{ # handle \d+\n\t\}/);
      expect(table).not.toContain('ts-forward');
      expect(table).not.toContain('ts-postrouting');
      expect(table).not.toContain('tsfw-');
      expect(await snapshotForeign(ns, TABLE)).toEqual(baseline);
      await expectIdempotent('off');
    });

    it('once the admin removes admin-input, apply --mode off removes the table', async () => {
      await ns.exec('nft', ['delete', 'chain', 'inet', TABLE, 'admin-input']);
      const report = await apply('off');
      expect(report.actions).toContainEqual(expect.objectContaining({ op: 'delete-table' }));
      expect(await ownTable()).toBe('');
      expect(await snapshotForeign(ns, TABLE)).toEqual(baseline);
    });
  });
});
