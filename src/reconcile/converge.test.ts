import { describe, expect, it } from 'vitest';
import { rulesetFrom } from '../../test/helpers/configs.js';
import { createNftablesBackend } from '../backends/nftables/backend.js';
import { ABSENT } from '../backends/nftables/parse.js';
import type { CommandRunner } from '../exec/runner.js';
import { converge } from './converge.js';

const opts = { table: 'tsfw', priorities: { input: -10, forward: -10, output: -10, postrouting: 90 } };

describe('converge with a read already under way', () => {
  it('plans from the read it is given instead of reading again; the read back after the write is its own', async () => {
    const calls: string[] = [];
    const runner: CommandRunner = {
      run: async (file, args, options) => {
        calls.push(`${[file, ...args].join(' ')} ${options?.input?.includes('"list"') ? 'list' : 'write'}`);
        return { stdout: '', stderr: 'Error: No such file or directory', exitCode: options?.input?.includes('"list"') ? 1 : 0 };
      },
    };
    const backend = createNftablesBackend(runner, opts);
    expect(backend.observesWithoutDesired).toBe(true);
    await expect(converge(backend, rulesetFrom('', 'on'), { observed: Promise.resolve(ABSENT) })).rejects.toThrow(/still differs/);
    // The given read was used; the write and its read-back ran (the stub's table never appears).
    expect(calls).toEqual(['nft -j -f - write', 'nft -j -f - list']);
  });
});
