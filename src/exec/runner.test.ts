import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ExecError } from './errors.js';
import { createProcessRunner, lineSplitter } from './runner.js';

const runner = createProcessRunner();

async function failure(promise: Promise<unknown>): Promise<ExecError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExecError);
  return error as ExecError;
}

describe('process runner', () => {
  it('returns stdout and stderr as printed (final newline kept) with LC_ALL=C', async () => {
    const r = await runner.run('sh', ['-c', 'printf "a\\nb\\n"; printf "warn\\n" >&2; printf "$LC_ALL"']);
    expect(r).toEqual({ stdout: 'a\nb\nC', stderr: 'warn\n', exitCode: 0 });
  });

  it('hands input to the child as a readable file descriptor (nft -f - opens /dev/stdin)', async () => {
    const r = await runner.run('sh', ['-c', 'cat /dev/stdin'], { input: 'table inet t {}\n' });
    expect(r.stdout).toBe('table inet t {}\n');
  });

  it('leaves nothing in the temp directory, not even a directory, for any input (a CLI run from cron every minute)', async () => {
    const previous = process.env.TMPDIR;
    const dir = mkdtempSync(join(tmpdir(), 'tsfw-runner-test-'));
    process.env.TMPDIR = dir;
    try {
      // A runner module of its own: nothing cached from the tests above.
      vi.resetModules();
      const runner = (await import('./runner.js')).createProcessRunner();
      const big = `# ü\n${'-A ts-input -j ACCEPT\n'.repeat(20_000)}`;
      for (const input of ['', 'table inet t {}\n', big]) {
        const r = await runner.run('sh', ['-c', 'cat /dev/stdin'], { input });
        expect(r.stdout).toBe(input);
        expect(readdirSync(dir)).toEqual([]);
      }
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a non-zero exit is a classified error, or a result with allowFailure', async () => {
    const e = await failure(runner.run('sh', ['-c', 'echo "Error: No such file or directory" >&2; exit 1']));
    expect(e.kind).toBe('raced');
    expect(e.exitCode).toBe(1);
    expect(await runner.run('sh', ['-c', 'exit 3'], { allowFailure: true })).toMatchObject({ exitCode: 3 });
  });

  it('a missing binary is not-found, a hung child a timeout, a killed one a failure', async () => {
    expect((await failure(runner.run('tsfw-no-such-binary', []))).kind).toBe('not-found');
    const started = Date.now();
    const timedOut = await failure(runner.run('sleep', ['30'], { timeoutMs: 200 }));
    expect(timedOut.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
    const killed = await failure(runner.run('sh', ['-c', 'kill -9 $$'], { allowFailure: true }));
    expect(killed.message).toMatch(/killed by SIGKILL/);
  });

  it('reads output larger than a pipe buffer completely', async () => {
    const r = await runner.run('sh', ['-c', 'head -c 3000000 /dev/zero | tr "\\0" x']);
    expect(r.stdout.length).toBe(3_000_000);
  });

  it('spawn streams lines and settles once the child has exited', async () => {
    const lines: string[] = [];
    const child = runner.spawn('sh', ['-c', 'echo one; echo two; echo oops >&2; exit 4'], (l) => lines.push(l));
    const exit = await child.exited;
    expect(exit).toEqual({ exitCode: 4, signal: undefined, stderr: 'oops\n' });
    expect(lines).toEqual(['one', 'two']);
    const missing = await runner.spawn('tsfw-no-such-binary', [], () => undefined).exited;
    expect(missing.exitCode).toBeUndefined();
    expect(missing.stderr).toMatch(/ENOENT/);
  });
});

describe('lineSplitter (the watchers\' and the nft session\'s output)', () => {
  it('gives whole lines however the output is cut into chunks, CRLF as LF, and a last unterminated line at the end', () => {
    const text = 'add rule inet tsfw ts-input handle 4\n# new generation 9 by process 12 (nft)\r\n\nlong ' + 'x'.repeat(70000) + '\nlast';
    const expected = ['add rule inet tsfw ts-input handle 4', '# new generation 9 by process 12 (nft)', '', `long ${'x'.repeat(70000)}`, 'last'];
    for (const size of [1, 3, 7, 64, 65536, text.length]) {
      const lines: string[] = [];
      const split = lineSplitter((l) => lines.push(l));
      for (let i = 0; i < text.length; i += size) split.push(text.slice(i, i + size));
      expect(lines).toEqual(expected.slice(0, -1));
      split.end();
      expect(lines).toEqual(expected);
    }
  });

  it('spawnInteractive merges stderr into the stdout lines, in order, and takes input', async () => {
    const runner = createProcessRunner();
    const lines: string[] = [];
    const child = runner.spawnInteractive('sh', ['-c', 'read a; echo "out $a"; echo "err $a" >&2; read b; echo "out $b"'], (l) => lines.push(l), { TSFW_TEST: '1' });
    expect(child.write('one\n')).toBe(true);
    child.write('two\n');
    const exit = await child.exited;
    expect(exit.exitCode).toBe(0);
    expect(lines).toEqual(['out one', 'err one', 'out two']);
    expect(child.write('late\n')).toBe(false);
  });
});
