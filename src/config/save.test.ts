import { chmodSync, chownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { prepareModeSave, saveMode } from './save.js';

const dir = () => mkdtempSync(join(tmpdir(), 'tsfw-save-'));

describe('saveMode', () => {
  it('changes only the mode key and keeps comments and order', () => {
    const file = join(dir(), 'config.yaml');
    writeFileSync(file, '# my router\nmode: on # was on\ninterface: wg0\n\ncgnat:\n  mode: return # ISP uses CGNAT\n');
    expect(saveMode(file, 'nodivert')).toEqual({ created: false, changed: true });
    expect(readFileSync(file, 'utf8')).toBe('# my router\nmode: nodivert # was on\ninterface: wg0\n\ncgnat:\n  mode: return # ISP uses CGNAT\n');
  });
  it('adds the key when absent and reports no change when already set', () => {
    const file = join(dir(), 'config.yaml');
    writeFileSync(file, 'snat: false\n');
    saveMode(file, 'off');
    expect(readFileSync(file, 'utf8')).toBe('snat: false\nmode: off\n');
    expect(saveMode(file, 'off')).toEqual({ created: false, changed: false });
  });
  it('creates a missing file and its directory', () => {
    const file = join(dir(), 'etc', 'tsfw', 'config.yaml');
    expect(saveMode(file, 'nodivert')).toEqual({ created: true, changed: true });
    expect(readFileSync(file, 'utf8')).toMatch(/^# tsfw configuration.*\nmode: nodivert\n$/s);
  });

  it.runIf(process.getuid?.() === 0)('writes a symlinked config through to its target, keeping its mode 0640 and owner', () => {
    const d = dir();
    const target = join(d, 'real.yaml');
    const bytes = Buffer.from('# gr\u00fc\u00dfe aus M\u00fcnchen\r\nmode: off\r\nports: [41641]\r\n', 'latin1');
    writeFileSync(target, bytes);
    chmodSync(target, 0o640);
    chownSync(target, 65534, 65534);
    symlinkSync(target, join(d, 'config.yaml'));
    expect(saveMode(join(d, 'config.yaml'), 'on')).toEqual({ created: false, changed: true });
    expect(lstatSync(join(d, 'config.yaml')).isSymbolicLink()).toBe(true);
    const s = statSync(target);
    expect([s.mode & 0o7777, s.uid, s.gid]).toEqual([0o640, 65534, 65534]);
    expect(readFileSync(target).equals(Buffer.from('# gr\u00fc\u00dfe aus M\u00fcnchen\r\nmode: on\r\nports: [41641]\r\n', 'latin1'))).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['config.yaml', 'real.yaml']);
  });

  it('never writes an edit that would not validate (the file is checked before anything is applied)', () => {
    const file = join(dir(), 'config.yaml');
    writeFileSync(file, 'mode: off\nports: [0]\n');
    expect(() => prepareModeSave(file, 'on')).toThrow(ConfigError);
    expect(readFileSync(file, 'utf8')).toBe('mode: off\nports: [0]\n');
  });

  it('creates a new file 0644 in a new directory 0755 whatever the umask', () => {
    const file = join(dir(), 'etc', 'config.yaml');
    const old = process.umask(0);
    try {
      saveMode(file, 'off');
    } finally {
      process.umask(old);
    }
    expect(statSync(file).mode & 0o7777).toBe(0o644);
    expect(statSync(join(file, '..')).mode & 0o7777).toBe(0o755);
  });
});
