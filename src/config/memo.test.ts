import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFacts } from '../discovery/facts.js';
import type { MemoPlace } from '../fsx/memo.js';
import { rulesetFor } from '../profiles/load.js';
import { rememberedRulesetFor, RULESET_MEMO } from '../profiles/ruleset-memo.js';
import { ConfigError } from './errors.js';
import { CONFIG_MEMO, loadConfig, loadConfigRemembered } from './load.js';
import { parseConfigText } from './parse.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

function setup(): { place: MemoPlace; file: string } {
  const runDir = mkdtempSync(join(tmpdir(), 'tsfw-memo-run-'));
  chmodSync(runDir, 0o700);
  const file = join(mkdtempSync(join(tmpdir(), 'tsfw-memo-cfg-')), 'config.yaml');
  writeFileSync(file, 'backend: nftables\nsnat: false\n');
  return { place: { runDir, build: 'build-a' }, file };
}

/** Rewrites the remembered value (same build, same key): a later hit returns it, proving the memo was used. */
function plant(place: MemoPlace, name: string, change: (value: Record<string, unknown>) => void): void {
  const path = join(place.runDir, name);
  const entry = JSON.parse(readFileSync(path, 'utf8')) as { value: Record<string, unknown> };
  change(entry.value);
  writeFileSync(path, JSON.stringify(entry));
  chmodSync(path, 0o600);
}

const load = (file: string, memo: MemoPlace, env: NodeJS.ProcessEnv = {}) => loadConfig({ flagPath: file, env, memo });
const markHit = (value: Record<string, unknown>) => {
  (value.config as Record<string, unknown>).interface = 'from-memo';
};

describe('the validated-config memo', () => {
  it('remembers what parseConfigText returned and serves it for the same text, build and environment', () => {
    const { place, file } = setup();
    const first = load(file, place);
    expect(first.config).toEqual(parseConfigText(readFileSync(file, 'utf8'), file).config);
    plant(place, CONFIG_MEMO, markHit);
    expect(load(file, place).config.interface).toBe('from-memo');
    // The memo holds the same data as a fresh validation, through JSON.
    expect(JSON.parse(JSON.stringify(first.config))).toEqual(first.config);
  });

  it('is not used after an edit, for another build, another TSFW_MODE, or without a build id', () => {
    const { place, file } = setup();
    load(file, place);
    plant(place, CONFIG_MEMO, markHit);
    expect(load(file, { ...place, build: 'build-b' }).config.interface).toBe('tailscale0');
    expect(load(file, place, { TSFW_MODE: 'off' }).config.interface).toBe('tailscale0');
    writeFileSync(file, 'backend: nftables\nsnat: false\n# edited\n');
    expect(load(file, place).config.interface).toBe('tailscale0');

    const none = setup();
    load(none.file, { ...none.place, build: undefined });
    expect(() => readFileSync(join(none.place.runDir, CONFIG_MEMO))).toThrow(/ENOENT/);
  });

  it('an invalid edit fails exactly as without a memo, and leaves the remembered good config alone', () => {
    const { place, file } = setup();
    load(file, place);
    const before = readFileSync(join(place.runDir, CONFIG_MEMO), 'utf8');
    writeFileSync(file, 'backend: nftables\nsnat: maybe\n');
    const withMemo = (() => { try { load(file, place); } catch (e) { return e; } })() as ConfigError;
    const without = (() => { try { load(file, { ...place, build: undefined }); } catch (e) { return e; } })() as ConfigError;
    expect(withMemo).toBeInstanceOf(ConfigError);
    expect(withMemo.lines()).toEqual(without.lines());
    expect(readFileSync(join(place.runDir, CONFIG_MEMO), 'utf8')).toBe(before);
  });

  it('is ignored when it is a symlink, writable by others, or in a directory others may write', () => {
    const { place, file } = setup();
    load(file, place);
    plant(place, CONFIG_MEMO, markHit);
    const memo = join(place.runDir, CONFIG_MEMO);
    chmodSync(memo, 0o666);
    expect(load(file, place).config.interface).toBe('tailscale0');
    chmodSync(memo, 0o600);
    expect(load(file, place).config.interface).toBe('tailscale0'); // the miss rewrote it
    plant(place, CONFIG_MEMO, markHit);
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'tsfw-memo-x-')), 'planted.json');
    writeFileSync(elsewhere, readFileSync(memo));
    chmodSync(elsewhere, 0o600);
    rmSync(memo);
    symlinkSync(elsewhere, memo);
    expect(load(file, place).config.interface).toBe('tailscale0');

    const open = setup();
    load(open.file, open.place);
    plant(open.place, CONFIG_MEMO, markHit);
    chmodSync(open.place.runDir, 0o777);
    expect(load(open.file, open.place).config.interface).toBe('tailscale0');
  });

  it.skipIf(!root)('is ignored when the file belongs to another user', () => {
    const { place, file } = setup();
    load(file, place);
    plant(place, CONFIG_MEMO, markHit);
    chownSync(join(place.runDir, CONFIG_MEMO), NOBODY, NOBODY);
    expect(load(file, place).config.interface).toBe('tailscale0');
  });

  it('the CLI form (loadConfigRemembered) gives the same result and the same errors, hit or miss', async () => {
    const { place, file } = setup();
    const fresh = load(file, { ...place, build: undefined });
    expect(await loadConfigRemembered({ flagPath: file, env: {}, memo: place })).toEqual(fresh); // miss: validates and remembers
    plant(place, CONFIG_MEMO, markHit);
    expect((await loadConfigRemembered({ flagPath: file, env: {}, memo: place })).config.interface).toBe('from-memo');
    writeFileSync(file, 'backend: nftables\nsnat: maybe\n');
    await expect(loadConfigRemembered({ flagPath: file, env: {}, memo: place })).rejects.toThrow(/snat/);
    await expect(loadConfigRemembered({ flagPath: join(place.runDir, 'absent.yaml'), env: {}, memo: place })).rejects.toThrow(/no such file \(named by -c\)/);
  });

  it('a read-only place (render, validate, status…) uses a memo but never writes one', () => {
    const { place, file } = setup();
    load(file, { ...place, readOnly: true });
    expect(() => readFileSync(join(place.runDir, CONFIG_MEMO))).toThrow(/ENOENT/);
    load(file, place);
    plant(place, CONFIG_MEMO, markHit);
    expect(load(file, { ...place, readOnly: true }).config.interface).toBe('from-memo');
  });

  it('is not written into a run directory that does not exist', () => {
    const { place, file } = setup();
    const missing = { ...place, runDir: join(place.runDir, 'not-yet') };
    load(file, missing);
    expect(() => readFileSync(join(missing.runDir, CONFIG_MEMO))).toThrow(/ENOENT/);
  });
});

describe('the expanded-ruleset memo', () => {
  it('gives what rulesetFor gives, remembered through JSON, and is keyed on config, mode and facts', async () => {
    const { place } = setup();
    const config = parseConfigText('profiles: [tailscale, lockdown]\nlockdown: { managementPorts: [{ interface: eth0, port: 22 }] }\naddresses: [100.64.0.1]\n', 'c').config;
    const facts = resolveFacts(config);
    const fresh = rulesetFor(config, 'on', facts);
    expect(await rememberedRulesetFor(config, 'on', facts, place)).toEqual(fresh);
    const remembered = JSON.parse(readFileSync(join(place.runDir, RULESET_MEMO), 'utf8')) as { value: unknown };
    expect(remembered.value).toEqual(fresh);
    plant(place, RULESET_MEMO, (value) => {
      value.chains = [];
    });
    expect((await rememberedRulesetFor(config, 'on', facts, place)).chains).toEqual([]);
    expect(await rememberedRulesetFor(config, 'nodivert', facts, place)).toEqual(rulesetFor(config, 'nodivert', facts));
    const other = resolveFacts(config, {});
    const moved = { ...other, ports: { values: [41642], source: 'tailscaled' as const } };
    expect(await rememberedRulesetFor({ ...config, ports: 'auto' }, 'on', moved, place)).toEqual(rulesetFor({ ...config, ports: 'auto' }, 'on', moved));
  });
});
