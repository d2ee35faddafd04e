import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChildExit, ProcessSpawner } from '../exec/runner.js';
import { superviseChild } from './supervised-child.js';

function fakeSpawner() {
  const children: { exit: (e: ChildExit) => void; killed: boolean; print: (line: string) => void }[] = [];
  const spawner: ProcessSpawner = {
    spawn(_file, _args, onLine) {
      let exit!: (e: ChildExit) => void;
      const exited = new Promise<ChildExit>((resolve) => {
        exit = resolve;
      });
      const entry = { exit, killed: false, print: onLine };
      children.push(entry);
      return { pid: children.length, exited, kill: () => { entry.killed = true; exit({ signal: 'SIGTERM', stderr: '' }); } };
    },
  };
  return { spawner, children };
}

const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('superviseChild', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is live after settleMs, restarts with doubling backoff, says so after each restart, and stops for good', async () => {
    const { spawner, children } = fakeSpawner();
    const events: string[] = [];
    const lines: string[] = [];
    const child = superviseChild({
      spawner, timers: globalThis, now: () => performance.now(), file: 'x', args: [],
      onLine: (l) => lines.push(l),
      onExit: (_e, { restartInMs }) => events.push(`exit ${restartInMs}`),
      onLive: (restarted) => events.push(`live ${restarted}`),
      onDown: () => events.push('down'),
      restartMinMs: 10, restartMaxMs: 40, settleMs: 5, healthyMs: 1000,
    });
    child.start();
    expect(child.running()).toBe(true);
    expect(child.live()).toBe(false);
    children[0]!.print('hello');
    expect(lines).toEqual(['hello']);
    await sleep(5);
    expect(child.live()).toBe(true);
    for (let i = 0; i < 4; i += 1) {
      children.at(-1)!.exit({ exitCode: 1, stderr: '' });
      await sleep(0);
      expect(child.live()).toBe(false);
      await sleep(60);
    }
    expect(events).toEqual(['live false', 'down', 'exit 10', 'live true', 'down', 'exit 20', 'live true', 'down', 'exit 40', 'live true', 'down', 'exit 40', 'live true']);
    expect(child.restarts()).toBe(4);
    // Healthy for healthyMs: the next restart waits the minimum again.
    await sleep(1001);
    children.at(-1)!.exit({ exitCode: 1, stderr: '' });
    await sleep(0);
    expect(events.at(-1)).toBe('exit 10');
    await sleep(10);
    const count = children.length;
    await child.stop();
    expect(children.at(-1)!.killed).toBe(true);
    expect(child.running()).toBe(false);
    await sleep(1000);
    expect(children.length).toBe(count);
  });

  it('a child that exits before it settled never counts as live', async () => {
    const { spawner, children } = fakeSpawner();
    const child = superviseChild({ spawner, timers: globalThis, now: () => performance.now(), file: 'x', args: [], onLine: () => undefined, onExit: () => undefined, settleMs: 50, restartMinMs: 1000 });
    child.start();
    await sleep(10);
    children[0]!.exit({ exitCode: 1, stderr: '' });
    await sleep(100);
    expect(child.live()).toBe(false);
    await child.stop();
  });
});
