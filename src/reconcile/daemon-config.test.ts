import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { ConfigKeeper } from './daemon-config.js';

function keeperFor(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'tsfw-keeper-')), 'config.yaml');
  writeFileSync(file, text);
  const keeper = new ConfigKeeper(() => loadConfig({ flagPath: file, env: {} }));
  return { file, keeper };
}

describe('ConfigKeeper', () => {
  it('keeps the last good config when the file is emptied, until it has content or is {}', () => {
    const { file, keeper } = keeperFor('mode: nodivert\n');
    writeFileSync(file, '');
    const emptied = keeper.reload();
    expect(emptied.ok).toBe(false);
    expect(!emptied.ok && emptied.problems[0]).toBe(`${file}: the file is empty: keeping the last good config until it has content (write {} for the defaults)`);
    writeFileSync(file, '# half written\n');
    expect(keeper.reload().ok).toBe(false);
    expect(keeper.current().loaded.config.mode).toBe('nodivert');
    writeFileSync(file, '{}\n');
    expect(keeper.reload().ok).toBe(true);
    expect(keeper.current().loaded.config.mode).toBe('on');
  });

  it('a file that starts empty may stay empty (the defaults were never anything else)', () => {
    const { file, keeper } = keeperFor('');
    writeFileSync(file, '\n\n');
    expect(keeper.reload().ok).toBe(true);
  });
});
