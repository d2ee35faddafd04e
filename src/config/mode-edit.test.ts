import { chmodSync, chownSync, lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editModeBytes } from './mode-edit.js';
import { parseConfigText } from './parse.js';
import { saveMode } from './save.js';

/**
 * The config-editing corpus: `apply --mode on` on each file changes only the bytes of the mode
 * value (one contiguous region: old value → new value), and the result validates.
 */
const latin1 = (s: string) => Buffer.from(s, 'latin1');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

const corpus: { name: string; bytes: Buffer; old: string; now: string }[] = [
  { name: 'block style with comments', bytes: utf8('# router\nmode: off # was on\ninterface: wg0\ncgnat:\n  mode: return # ISP\n'), old: 'off', now: 'on' },
  { name: 'flow mapping at the top level', bytes: utf8('{mode: nodivert, ports: [41641, 41642], cgnat: {mode: drop}}\n'), old: 'nodivert', now: 'on' },
  { name: 'flow lists kept as written', bytes: utf8('ports: [ 41641 ,41642 ]\nmode: off\nfamilies: [ip,ip6]\n'), old: 'off', now: 'on' },
  { name: 'double-quoted value', bytes: utf8('mode: "off"\n'), old: '"off"', now: '"on"' },
  { name: 'single-quoted value', bytes: utf8("mode: 'nodivert'\n"), old: "'nodivert'", now: "'on'" },
  { name: 'CRLF line ends', bytes: utf8('# crlf\r\nmode: off\r\ninterface: tailscale0\r\n'), old: 'off', now: 'on' },
  { name: 'UTF-8 comments', bytes: utf8('# Büro-Router ✓ — 東京\nmode: off # ändern?\ninterface: tailscale0 # ünïcödé\n'), old: 'off', now: 'on' },
  { name: 'Latin-1 comments', bytes: latin1('# B\u00fcro-Router, \u00e9t\u00e9 \u00a7 \u00ff\nmode: off # \u00e4ndern\ninterface: tailscale0\n'), old: 'off', now: 'on' },
  { name: 'Latin-1 and CRLF together', bytes: latin1('# gr\u00fc\u00dfe\r\nmode: nodivert\r\n'), old: 'nodivert', now: 'on' },
  { name: 'UTF-8 byte order mark', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('mode: off\n')]), old: 'off', now: 'on' },
  { name: 'an alias as the mode value', bytes: utf8('cgnat: {mode: &d off}\nmode: *d\n'), old: '*d', now: 'on' },
  { name: 'explicit tag', bytes: utf8('mode: !!str off\n'), old: 'off', now: 'on' },
  { name: 'no trailing newline', bytes: utf8('interface: wg0\nmode: off'), old: 'off', now: 'on' },
  { name: 'document markers', bytes: utf8('---\nmode: off\n...\n'), old: 'off', now: 'on' },
];

/** The one region where `before` and `after` differ. */
function differingRegion(before: Buffer, after: Buffer): { old: string; now: string } {
  let p = 0;
  while (p < before.length && p < after.length && before[p] === after[p]) p++;
  let s = 0;
  while (s < before.length - p && s < after.length - p && before[before.length - 1 - s] === after[after.length - 1 - s]) s++;
  return { old: before.subarray(p, before.length - s).toString('latin1'), now: after.subarray(p, after.length - s).toString('latin1') };
}

describe('editModeBytes: only the mode value changes, and the result validates', () => {
  for (const entry of corpus) {
    it(entry.name, () => {
      const edit = editModeBytes(entry.bytes, 'on');
      if (!edit.ok) throw new Error(edit.problem);
      expect(edit.changed).toBe(true);
      const region = differingRegion(entry.bytes, edit.bytes);
      // The shortest differing region may shrink around shared letters (off → on shares 'o').
      expect(entry.old).toContain(region.old);
      expect(entry.now).toContain(region.now);
      expect(edit.bytes.length - entry.bytes.length).toBe(entry.now.length - entry.old.length);
      expect(parseConfigText(edit.bytes.toString('utf8'), 'test').config.mode).toBe('on');
    });
  }

  it.runIf(process.getuid?.() === 0)('the whole corpus through saveMode, each file behind a symlink, its target 0640 and owned by nobody', () => {
    for (const entry of corpus) {
      const dir = mkdtempSync(join(tmpdir(), 'tsfw-corpus-'));
      const target = join(dir, 'target.yaml');
      writeFileSync(target, entry.bytes);
      chmodSync(target, 0o640);
      chownSync(target, 65534, 65534);
      symlinkSync(target, join(dir, 'config.yaml'));
      expect(saveMode(join(dir, 'config.yaml'), 'on'), entry.name).toEqual({ created: false, changed: true });
      const expected = editModeBytes(entry.bytes, 'on');
      expect(expected.ok && readFileSync(target).equals(expected.bytes), entry.name).toBe(true);
      const s = statSync(target);
      expect([lstatSync(join(dir, 'config.yaml')).isSymbolicLink(), s.mode & 0o7777, s.uid, s.gid], entry.name).toEqual([true, 0o640, 65534, 65534]);
    }
  });

  it('an anchored mode is split: the first alias takes the anchor, so cgnat.mode keeps its value', () => {
    const edit = editModeBytes(utf8('mode: &m off\ncgnat: {mode: *m}\n'), 'on');
    if (!edit.ok) throw new Error(edit.problem);
    expect(edit.bytes.toString()).toBe('mode: &m on\ncgnat: {mode: &m off}\n');
    const { config } = parseConfigText(edit.bytes.toString(), 'test');
    expect([config.mode, config.cgnat.mode]).toEqual(['on', 'off']);
  });

  it('later aliases of a split anchor keep their value too (they now refer to the moved anchor)', () => {
    const edit = editModeBytes(utf8('mode: &m off\na: {b: *m}\nc: [*m, *m]\n'), 'on');
    if (!edit.ok) throw new Error(edit.problem);
    expect(edit.bytes.toString()).toBe('mode: &m on\na: {b: &m off}\nc: [*m, *m]\n');
  });

  it('an anchored, tagged mode keeps its tag where the anchor moves', () => {
    const edit = editModeBytes(utf8('mode: !!str &m off\ncgnat:\n  mode: *m\n'), 'on');
    if (!edit.ok) throw new Error(edit.problem);
    expect(edit.bytes.toString()).toBe('mode: !!str &m on\ncgnat:\n  mode: &m !!str off\n');
    expect(parseConfigText(edit.bytes.toString(), 'test').config.cgnat.mode).toBe('off');
  });

  it('adds the key when absent: a line at the end of a block mapping, an entry in a flow one', () => {
    const block = editModeBytes(utf8('snat: false\r\n# trailing comment\r\n'), 'off');
    const flow = editModeBytes(utf8('{snat: false}\n'), 'off');
    const empty = editModeBytes(utf8('# only a comment'), 'off');
    expect(block.ok && block.bytes.toString()).toBe('snat: false\r\nmode: off\r\n# trailing comment\r\n');
    expect(flow.ok && flow.bytes.toString()).toBe('{snat: false, mode: off}\n');
    expect(empty.ok && empty.bytes.toString()).toBe('# only a comment\nmode: off\n');
  });

  it('reports no change when the mode is already set, and leaves the bytes alone', () => {
    const bytes = utf8('mode: nodivert # keep\n');
    const edit = editModeBytes(bytes, 'nodivert');
    expect(edit.ok && !edit.changed && edit.bytes.equals(bytes)).toBe(true);
  });

  it('refuses what it cannot edit without changing meaning: a list at the top, a mapping as the mode', () => {
    expect(editModeBytes(utf8('- a\n'), 'on')).toMatchObject({ ok: false, problem: '(top level): must be a mapping of keys' });
    expect(editModeBytes(utf8('mode: {x: 1}\n'), 'on')).toMatchObject({ ok: false, problem: 'mode: not a scalar value' });
    expect(editModeBytes(utf8('mode: [off\n'), 'on')).toMatchObject({ ok: false });
  });
});
