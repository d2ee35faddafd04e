import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveMode } from './save.js';

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
});
