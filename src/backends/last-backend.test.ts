import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLastBackend, recordLastBackend } from './last-backend.js';

const runDir = () => mkdtempSync(join(tmpdir(), 'tsfw-run-'));

describe('last backend marker', () => {
  it('is unknown until recorded, then returns what was recorded for this namespace', () => {
    const dir = runDir();
    expect(readLastBackend(dir)).toBeUndefined();
    recordLastBackend(dir, 'iptables-legacy');
    expect(readLastBackend(dir)).toBe('iptables-legacy');
    recordLastBackend(dir, 'nftables');
    expect(readLastBackend(dir)).toBe('nftables');
  });

  it('ignores a marker written in another network namespace', () => {
    const dir = runDir();
    recordLastBackend(dir, 'nftables');
    const file = join(dir, 'backend.json');
    const marker = JSON.parse(readFileSync(file, 'utf8')) as { netns: string };
    writeFileSync(file, JSON.stringify({ ...marker, netns: 'net:[1]' }));
    expect(readLastBackend(dir)).toBeUndefined();
  });

  it('treats a corrupt marker as unknown and survives an unwritable run directory', () => {
    const dir = runDir();
    writeFileSync(join(dir, 'backend.json'), '{not json');
    expect(readLastBackend(dir)).toBeUndefined();
    // A run "directory" below a regular file cannot be created (ENOTDIR).
    expect(() => recordLastBackend(join(dir, 'backend.json', 'sub'), 'nftables')).not.toThrow();
  });
});
