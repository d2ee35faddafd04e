import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ProfileError } from './expand.js';
import { loadProfile } from './load.js';

describe('loadProfile on hostile files', () => {
  it('refuses a FIFO or /dev/zero in place of a profile without blocking, naming the file', async () => {
    const dir = `${mkdtempSync(join(tmpdir(), 'tsfw-rules-'))}/`;
    await execa('mkfifo', [`${dir}fifo.yaml`]);
    symlinkSync('/dev/zero', `${dir}zero.yaml`);
    expect(() => loadProfile('fifo', dir)).toThrow(ProfileError);
    expect(() => loadProfile('fifo', dir)).toThrow(`profile fifo: ${dir}fifo.yaml: not a regular file (a FIFO)`);
    expect(() => loadProfile('zero', dir)).toThrow(`profile zero: ${dir}zero.yaml: not a regular file (a character device)`);
  });
});
