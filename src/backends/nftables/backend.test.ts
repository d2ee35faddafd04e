import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../exec/runner.js';
import { createNftablesBackend } from './backend.js';

const printing = (stdout: string): CommandRunner => ({ run: async () => ({ stdout, stderr: '', exitCode: 0 }) });
const opts = { table: 'tsfw', priorities: { input: -10, forward: -10, output: -10, postrouting: 90 } };

describe('nftables backend reading nft', () => {
  it.each(['garbage', '{"nftables": 5}', 'null', '', '[{"nftables": [null]}]'])('output %j is refused with one line naming what nft printed, not a TypeError', async (stdout) => {
    const backend = createNftablesBackend(printing(stdout), opts);
    await expect(backend.observe()).rejects.toThrow(/^nft list table: nft printed something that is not its JSON listing \(starts with ".*"\)$/);
  });

  it.each(['{"nftables": [{"chain": null}, 7]}', '{"nftables": []}'])('output %j with nothing of tsfw in it reads as no table', async (stdout) => {
    const backend = createNftablesBackend(printing(stdout), opts);
    expect(await backend.observe()).toMatchObject({ exists: false });
  });
});
