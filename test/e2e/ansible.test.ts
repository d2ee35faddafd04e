import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Config } from '../../src/config/schema.js';
import { changedTasks, ensureAnsiblePlaybook, REPO_ROOT, runPlaybook } from '../helpers/ansible.js';
import type { PlaybookRun } from '../helpers/ansible.js';
import { TSFW_BIN, tsfw } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * The Ansible role, driven by the real ansible-playbook with a local connection inside a fresh
 * namespace: changed on the first run, ok on the second, check mode after drift reports the
 * change and makes none, and a normal run repairs it. Every path (config, unit directory,
 * Ansible's own state) is in a temp directory; the service is not managed (no systemd here).
 */

/** Every key path of a plain-object tree ("cgnat.mode", ...), sorted; arrays are leaves. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => [`${prefix}${key}`, ...keyPaths(child, `${prefix}${key}.`)]).sort();
}

const RECONCILE_TASK = 'Reconcile netfilter rules with tsfw';
const SHIPPED_UNIT = join(REPO_ROOT, 'systemd', 'tsfw.service');
const ansible = await ensureAnsiblePlaybook();
const suite = 'path' in ansible ? describe : describe.skip;
const title = 'path' in ansible ? 'ansible role tsfw (real ansible-playbook)' : `ansible role tsfw (skipped: ${ansible.reason})`;

suite(title, { timeout: 240_000 }, () => {
  let ns: Netns;
  let reference: Netns;
  let dir: string;
  let configPath: string;
  let unitDir: string;
  let varsFile: string;
  let ansibleHome: string;

  const writeVars = (extra: Record<string, unknown> = {}) => writeFileSync(varsFile, JSON.stringify({
    tsfw_bin: `${process.execPath} ${TSFW_BIN}`,
    tsfw_config: configPath,
    tsfw_unit_dir: unitDir,
    tsfw_manage_service: false,
    ...extra,
  }));
  const play = async (args: readonly string[] = []): Promise<PlaybookRun> => {
    const run = await runPlaybook(ns, { varsFile, ansibleHome, args });
    // Make a failure readable: the whole Ansible output is in the message.
    expect(run.exitCode, run.output).toBe(0);
    expect(run.recap, run.output).toBeDefined();
    expect(run.recap?.failed, run.output).toBe(0);
    return run;
  };
  /** The table as nft prints it without handles or counters, or undefined when absent. */
  const table = async (where: Netns): Promise<string | undefined> => {
    const r = await where.exec('nft', ['-s', 'list', 'table', 'inet', 'tsfw'], { reject: false });
    return r.exitCode === 0 ? r.stdout : undefined;
  };

  beforeAll(async () => {
    expect(existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')), 'run `npx tsc -p tsconfig.build.json` first').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'tsfw-ansible-'));
    configPath = join(dir, 'etc', 'tsfw', 'config.yaml');
    unitDir = join(dir, 'systemd', 'system');
    varsFile = join(dir, 'vars.json');
    ansibleHome = join(dir, 'ansible-home');
    mkdirSync(ansibleHome);
    writeVars();
    ns = await createNetns('tsfwa');
    await ns.sh('ip link add tailscale0 type veth peer name tsfw-peer0 && ip link set tailscale0 up && ip link set tsfw-peer0 up');
    await ns.sh('ip addr add 100.100.7.1/24 dev tailscale0 nodad');
    reference = await createNetns('tsfwaref');
    // The same tunnel and address, so `addresses: auto` discovers the same own-address rule there.
    await reference.sh('ip link add tailscale0 type veth peer name tsfw-peer0 && ip link set tailscale0 up && ip link set tsfw-peer0 up');
    await reference.sh('ip addr add 100.100.7.1/24 dev tailscale0 nodad');
  });

  afterAll(async () => {
    await ns?.destroy();
    await reference?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('check mode on a fresh host reports what would change and writes nothing', async () => {
    const run = await play(['--check']);
    expect(run.tasks.get('Install the tsfw config'), run.output).toContain('changed');
    expect(run.tasks.get(RECONCILE_TASK), run.output).toEqual(['changed']);
    expect(run.output).toContain('would create-table inet tsfw');
    expect(existsSync(configPath)).toBe(false);
    expect(existsSync(unitDir)).toBe(false);
    expect(await table(ns)).toBeUndefined();
  });

  it('first run installs config and unit and applies the ruleset (changed)', async () => {
    expect(existsSync(SHIPPED_UNIT), `${SHIPPED_UNIT} (the shipped unit the role installs) is missing`).toBe(true);
    const run = await play();
    expect(changedTasks(run)).toEqual(expect.arrayContaining(['Install the tsfw config', 'Copy tsfw.service', RECONCILE_TASK]));
    expect(run.tasks.get(RECONCILE_TASK)).toEqual(['changed']);

    // The role writes every config key, and its defaults are tsfw's: the file parses to exactly
    // the embedded config.
    const written: unknown = parse(readFileSync(configPath, 'utf8'));
    expect(keyPaths(written)).toEqual(keyPaths(Config.parse({})));
    expect(Config.parse(written)).toEqual(Config.parse({}));
    expect(readFileSync(join(unitDir, 'tsfw.service'), 'utf8')).toBe(readFileSync(SHIPPED_UNIT, 'utf8'));
    const dropIn = readFileSync(join(unitDir, 'tsfw.service.d', 'ansible.conf'), 'utf8');
    expect(dropIn).toContain(`ExecStart=${process.execPath} ${TSFW_BIN} daemon -c ${configPath}\n`);
    expect(dropIn).toContain(`ExecReload=${process.execPath} ${TSFW_BIN} reload --pid $MAINPID\n`);

    // The same config applied by hand in a clean namespace gives the same table.
    const clean = await tsfw(reference, ['apply', '-c', configPath]);
    expect(clean.exitCode, clean.stderr).toBe(0);
    const expected = await table(reference);
    expect(expected).toContain('chain ts-input');
    expect(await table(ns)).toBe(expected);
  });

  it('second run changes nothing (changed=0)', async () => {
    const before = await table(ns);
    const run = await play();
    expect(run.recap?.changed, run.output).toBe(0);
    expect(run.tasks.get(RECONCILE_TASK)).toEqual(['ok']);
    expect(await table(ns)).toBe(before);
  });

  it('after drift, check mode reports changed and changes nothing; a normal run repairs', async () => {
    const expected = await table(reference);
    const configBefore = readFileSync(configPath, 'utf8');
    await ns.sh('nft flush ruleset');
    expect(await table(ns)).toBeUndefined();

    const check = await play(['--check']);
    expect(check.recap?.changed, check.output).toBe(1);
    expect(changedTasks(check)).toEqual([RECONCILE_TASK]);
    expect(check.output).toContain('would create-table inet tsfw');
    expect(await table(ns)).toBeUndefined();
    expect(readFileSync(configPath, 'utf8')).toBe(configBefore);

    const repair = await play();
    expect(repair.recap?.changed, repair.output).toBe(1);
    expect(changedTasks(repair)).toEqual([RECONCILE_TASK]);
    expect(await table(ns)).toBe(expected);

    const again = await play();
    expect(again.recap?.changed, again.output).toBe(0);
  });

  it('a changed variable: check mode previews the new rules from the pending config, a run applies them', async () => {
    writeVars({ tsfw_ports: [41641, 41642] });
    const before = await table(ns);
    const configBefore = readFileSync(configPath, 'utf8');

    const check = await play(['--check']);
    expect(changedTasks(check).sort()).toEqual(['Install the tsfw config', RECONCILE_TASK].sort());
    expect(check.output).toMatch(/would fill-chain inet tsfw ts-input/);
    expect(readFileSync(configPath, 'utf8')).toBe(configBefore);
    expect(await table(ns)).toBe(before);

    const run = await play();
    expect(changedTasks(run).sort()).toEqual(['Install the tsfw config', RECONCILE_TASK].sort());
    expect(await table(ns)).toMatch(/udp dport 41642 .*accept/);
    expect(Config.parse(parse(readFileSync(configPath, 'utf8'))).ports).toEqual([41641, 41642]);
  });
});
