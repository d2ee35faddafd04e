import { describe, expect, it } from 'vitest';
import { isMissingObject } from '../../exec/errors.js';
import type { ChildExit, InteractiveChild, InteractiveSpawner } from '../../exec/runner.js';
import { answerFrom, createNftSession, listTableDocument } from './session.js';
import type { TableLister } from './session.js';

const TABLE_JSON = '{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "inet", "name": "tsfw", "handle": 1}}]}';

interface FakeChild {
  readonly lines: string[];
  readonly child: InteractiveChild;
  readonly env: Readonly<Record<string, string>> | undefined;
  killed: boolean;
  exit(exit: ChildExit): void;
}

/**
 * Answers like `nft -j -i` with stderr merged: a listing of an existing table is one JSON line, of
 * a missing one nft's JSON-input error; `tsfw-end-N` is a syntax error that nft echoes.
 * `behaviour` can make it mute or print nonsense.
 */
function fakeNft(tables: Set<string>, behaviour: { mute?: boolean; junk?: boolean } = {}) {
  const children: FakeChild[] = [];
  const spawner: InteractiveSpawner = {
    spawnInteractive(file, args, onLine, env) {
      expect([file, ...args]).toEqual(['nft', '-j', '-i']);
      let settle: (exit: ChildExit) => void = () => undefined;
      const exited = new Promise<ChildExit>((resolve) => {
        settle = resolve;
      });
      const fake: FakeChild = {
        lines: [],
        env,
        killed: false,
        exit: (exit) => settle(exit),
        child: {
          pid: 1000 + children.length,
          exited,
          kill() {
            fake.killed = true;
            settle({ signal: 'SIGTERM', stderr: '' });
          },
          write(text) {
            if (fake.killed) return false;
            for (const line of text.split('\n').filter(Boolean)) {
              fake.lines.push(line);
              if (behaviour.mute) continue;
              queueMicrotask(() => {
                if (line.startsWith('tsfw-end-')) {
                  for (const l of ['Error: syntax error, unexpected newline, expecting string', line, '          ^']) onLine(l);
                  return;
                }
                if (behaviour.junk) return onLine('{"nftables": 1}'), onLine('{"nftables": 2}');
                const name = (JSON.parse(line) as { nftables: [{ list: { table: { name: string } } }] }).nftables[0].list.table.name;
                if (tables.has(name)) onLine(TABLE_JSON);
                else for (const l of ['internal:0:0-0: Error: No such file or directory', '']) onLine(l);
              });
            }
            return true;
          },
        },
      };
      children.push(fake);
      return fake.child;
    },
  };
  return { spawner, children };
}

const countingFallback = () => {
  const calls: string[] = [];
  const fallback: TableLister = async (family, table) => {
    calls.push(`${family} ${table}`);
    return { stdout: 'one-shot', stderr: '', exitCode: 0 };
  };
  return { calls, fallback };
};

describe('the daemon nft session', () => {
  it('sends only the JSON list command and its end marker, and returns what nft -j -f - would', async () => {
    const nft = fakeNft(new Set(['tsfw']));
    const { calls, fallback } = countingFallback();
    const session = createNftSession({ spawner: nft.spawner, fallback, home: '/run/tsfw/nft-home-absent' });
    expect(await session.listTable('inet', 'tsfw')).toEqual({ stdout: `${TABLE_JSON}\n`, stderr: '', exitCode: 0 });
    const missing = await session.listTable('inet', 'other');
    expect(missing?.exitCode).toBe(1);
    expect(isMissingObject(missing!.stderr)).toBe(true);
    expect(nft.children).toHaveLength(1);
    expect(nft.children[0]!.lines).toEqual([listTableDocument('inet', 'tsfw'), 'tsfw-end-0', listTableDocument('inet', 'other'), 'tsfw-end-1']);
    expect(nft.children[0]!.env).toEqual({ HOME: '/run/tsfw/nft-home-absent' });
    expect(calls).toEqual([]);
    expect(session.status()).toMatchObject({ reads: 2, fallbacks: 0, children: 1 });
  });

  it('answers reads asked at the same time in order, one at a time', async () => {
    const nft = fakeNft(new Set(['a']));
    const session = createNftSession({ spawner: nft.spawner, fallback: countingFallback().fallback, home: '/x' });
    const [a, b, c] = await Promise.all([session.listTable('inet', 'a'), session.listTable('inet', 'b'), session.listTable('inet', 'a')]);
    expect([a?.exitCode, b?.exitCode, c?.exitCode]).toEqual([0, 1, 0]);
  });

  it('replaces the child after maxReads, so nft history cannot grow without end', async () => {
    const nft = fakeNft(new Set(['tsfw']));
    const session = createNftSession({ spawner: nft.spawner, fallback: countingFallback().fallback, home: '/x', maxReads: 2 });
    for (let i = 0; i < 5; i++) await session.listTable('inet', 'tsfw');
    expect(nft.children.map((c) => c.lines.length)).toEqual([4, 4, 2]);
    expect(nft.children.map((c) => c.killed)).toEqual([true, true, false]);
  });

  it('a child that gives no answer in time is killed and the read is answered by one nft', async () => {
    const nft = fakeNft(new Set(['tsfw']), { mute: true });
    const { calls, fallback } = countingFallback();
    const problems: string[] = [];
    const session = createNftSession({ spawner: nft.spawner, fallback, home: '/x', timeoutMs: 20, onFailure: (p) => problems.push(p) });
    expect(await session.listTable('inet', 'tsfw')).toMatchObject({ stdout: 'one-shot' });
    expect(nft.children[0]!.killed).toBe(true);
    expect(calls).toEqual(['inet tsfw']);
    expect(problems).toEqual(['nft -i gave no answer within 20 ms: reading with one nft per pass']);
  });

  it('a child that exits during a read, or prints what is not an answer, falls back; repeated failures rest the session', async () => {
    const nft = fakeNft(new Set(['tsfw']), { junk: true });
    const { calls, fallback } = countingFallback();
    let now = 0;
    const session = createNftSession({ spawner: nft.spawner, fallback, home: '/x', maxFailures: 2, restMs: 1000, now: () => now });
    await session.listTable('inet', 'tsfw');
    await session.listTable('inet', 'tsfw');
    await session.listTable('inet', 'tsfw'); // resting: not even tried
    expect(nft.children).toHaveLength(2);
    expect(calls).toHaveLength(3);
    now = 1001; // rested: tried again
    await session.listTable('inet', 'tsfw');
    expect(nft.children).toHaveLength(3);
    const exiting = fakeNft(new Set(['tsfw']), { mute: true });
    const again = createNftSession({ spawner: exiting.spawner, fallback, home: '/x' });
    const read = again.listTable('inet', 'tsfw');
    await Promise.resolve();
    exiting.children[0]!.exit({ exitCode: 1, stderr: 'Error: interactive CLI not supported in this build' });
    expect(await read).toMatchObject({ stdout: 'one-shot' });
  });

  it('lines from a child that was replaced never answer the next read', async () => {
    let lateLine: ((line: string) => void) | undefined;
    const real = fakeNft(new Set(['tsfw']));
    const spawner: InteractiveSpawner = {
      spawnInteractive(file, args, onLine, env) {
        if (!lateLine) {
          lateLine = onLine;
          return { pid: 1, exited: new Promise(() => undefined), kill: () => undefined, write: () => true };
        }
        // The second child answers late, after the first one's stale lines.
        return real.spawner.spawnInteractive(file, args, (line) => setTimeout(() => onLine(line), 10), env);
      },
    };
    const session = createNftSession({ spawner, fallback: countingFallback().fallback, home: '/x', timeoutMs: 200 });
    await session.listTable('inet', 'tsfw'); // the first child never answers: replaced
    const next = session.listTable('inet', 'tsfw');
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(real.children).toHaveLength(1);
    lateLine!('{"nftables": "stale"}');
    lateLine!('tsfw-end-1');
    expect(await next).toEqual({ stdout: `${TABLE_JSON}\n`, stderr: '', exitCode: 0 });
  });

  it('stop ends the child; a later read starts a new one', async () => {
    const nft = fakeNft(new Set(['tsfw']));
    const session = createNftSession({ spawner: nft.spawner, fallback: countingFallback().fallback, home: '/x' });
    await session.listTable('inet', 'tsfw');
    await session.stop();
    expect(nft.children[0]!.killed).toBe(true);
    await session.listTable('inet', 'tsfw');
    expect(nft.children).toHaveLength(2);
  });
});

describe('answerFrom', () => {
  it('one JSON line is a listing; error lines make a failure with them as stderr', () => {
    expect(answerFrom(['{"nftables": []}'])).toEqual({ stdout: '{"nftables": []}\n', stderr: '', exitCode: 0 });
    expect(answerFrom(['internal:0:0-0: Error: No such file or directory', ''])).toEqual({ stdout: '', stderr: 'internal:0:0-0: Error: No such file or directory\n', exitCode: 1 });
    expect(() => answerFrom([])).toThrow(/0 JSON lines/);
    expect(() => answerFrom(['{}', '{}'])).toThrow(/2 JSON lines/);
  });
});
