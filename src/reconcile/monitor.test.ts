import { Writable } from 'node:stream';
import { createLogger } from '../log/logger.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChildExit, ProcessSpawner } from '../exec/runner.js';
import { createFreshness } from './freshness.js';
import type { Freshness } from './freshness.js';
import { createMonitor } from './monitor.js';
import type { Trigger } from './reconciler.js';

/** A spawner whose children are driven by the test: print lines, exit. */
function fakeSpawner() {
  const children: { args: readonly string[]; print: (line: string) => void; exit: (e: ChildExit) => void; killed: boolean }[] = [];
  const spawner: ProcessSpawner = {
    spawn(file, args, onLine) {
      let exit!: (e: ChildExit) => void;
      const exited = new Promise<ChildExit>((resolve) => {
        exit = resolve;
      });
      const entry = { args: [file, ...args], print: onLine, exit, killed: false };
      children.push(entry);
      return {
        pid: 1000 + children.length,
        exited,
        kill: () => {
          entry.killed = true;
          exit({ signal: 'SIGTERM', stderr: '' });
        },
      };
    },
  };
  return { spawner, children };
}

const quiet = createLogger('silent');
/**
 * The clock is vitest's fake one (setTimeout and performance.now), so the debounce and restart
 * delays are asserted exactly, whatever else the CI machine is busy with.
 */
const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);

function setup(log = quiet, own: readonly number[] = [], scopeTables?: Freshness) {
  const { spawner, children } = fakeSpawner();
  const triggers: { at: number; trigger: Trigger }[] = [];
  const monitor = createMonitor({
    spawner,
    scope: { tables: ['inet tsfw'] },
    log,
    timers: globalThis,
    now: () => performance.now(),
    onTrigger: (trigger) => triggers.push({ at: performance.now(), trigger }),
    restartMinMs: 20,
    restartMaxMs: 80,
    ownWrite: (pid) => own.includes(pid),
    ...(scopeTables ? { scopeTables } : {}),
  });
  return { monitor, children, triggers };
}

const rule = (op: string, table = 'tsfw') => `${op} rule inet ${table} ts-input handle 7`;
const commit = (n: number, pid = 4242, name = 'nft') => `# new generation ${n} by process ${pid} (${name})`;

describe('nft monitor supervisor', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs nft monitor and, before it has seen a transaction boundary, turns a burst of events into one trigger within ~20 ms', async () => {
    const s = setup();
    s.monitor.start();
    expect(s.children[0]?.args).toEqual(['nft', 'monitor']);
    const sent = performance.now();
    for (let i = 0; i < 30; i++) s.children[0]!.print(rule(i === 0 ? 'delete' : 'add'));
    await sleep(60);
    expect(s.triggers.map((t) => t.trigger)).toEqual([{ cause: 'event', detail: 'delete rule inet tsfw ts-input (+29 more)' }]);
    expect(s.triggers[0]!.at - sent).toBeLessThan(25);
    await s.monitor.stop();
  });

  it('ignores changes in unrelated tables', async () => {
    const s = setup();
    s.monitor.start();
    s.children[0]!.print(rule('add', 'other'));
    s.children[0]!.print('add table ip filter');
    s.children[0]!.print(commit(3));
    await sleep(30);
    expect(s.triggers).toEqual([]);
    await s.monitor.stop();
  });

  it('fires at the transaction boundary, not before, however slowly the lines come, naming the writer', async () => {
    const s = setup();
    s.monitor.start();
    const child = s.children[0]!;
    child.print('add table ip filter');
    child.print(commit(1, 10, 'iptables-nft')); // learns that this nft prints boundaries
    child.print(rule('delete'));
    await sleep(30); // far past the 3 ms debounce: still one transaction
    child.print(rule('add'));
    expect(s.triggers).toEqual([]);
    const sent = performance.now();
    child.print(commit(2, 4711, 'firewalld'));
    expect(s.triggers.map((t) => t.trigger)).toEqual([{ cause: 'event', detail: 'delete rule inet tsfw ts-input (+1 more) by firewalld[4711]', by: 'firewalld[4711]' }]);
    expect(s.triggers[0]!.at - sent).toBeLessThan(5);
    // A transaction without relevant changes causes nothing; one whose boundary never comes still fires.
    child.print('add chain inet tsfw my-input');
    child.print(commit(3));
    child.print(rule('delete'));
    await sleep(400);
    expect(s.triggers.map((t) => t.trigger.detail)).toEqual(['delete rule inet tsfw ts-input (+1 more) by firewalld[4711]', 'delete rule inet tsfw ts-input']);
    await s.monitor.stop();
  });

  it('a transaction committed by one of the daemon\'s own children causes no pass; the next one does', async () => {
    const s = setup(quiet, [555]);
    s.monitor.start();
    const child = s.children[0]!;
    child.print(rule('add'));
    child.print(commit(1, 555, 'nft'));
    await sleep(400);
    expect(s.triggers).toEqual([]);
    child.print(rule('delete'));
    child.print(commit(2, 4711, 'firewalld'));
    expect(s.triggers.map((t) => t.trigger.detail)).toEqual(['delete rule inet tsfw ts-input by firewalld[4711]']);
    await s.monitor.stop();
  });

  it('resyncs at once on a lost-events line', async () => {
    const s = setup();
    s.monitor.start();
    s.children[0]!.print('# ERROR: We lost some netlink events!');
    expect(s.triggers.map((t) => t.trigger)).toEqual([{ cause: 'resync', detail: 'lost netlink events' }]);
    expect(s.monitor.status()).toMatchObject({ lostEvents: 1 });
    await s.monitor.stop();
  });

  it('restarts a child that died, with growing delays, and runs a pass once it is back', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('warn', new Writable({ write: (c, _e, done) => (lines.push(JSON.parse(String(c))), done()) }));
    const s = setup(log);
    s.monitor.start();
    s.children[0]!.exit({ exitCode: 1, stderr: 'netlink: Error: cannot open\n' });
    await sleep(5);
    expect(s.monitor.status()).toMatchObject({ running: false, restarts: 1 });
    await sleep(30);
    expect(s.children).toHaveLength(2);
    s.children[1]!.exit({ exitCode: 1, stderr: '' });
    await sleep(25);
    expect(s.children).toHaveLength(2); // second delay is 40 ms
    await sleep(30);
    expect(s.children).toHaveLength(3);
    await sleep(120);
    expect(s.triggers.map((t) => t.trigger.cause)).toEqual(['monitor-restart']);
    expect(lines[0]).toMatchObject({ msg: 'nft monitor exited: restarting it', exitCode: 1, stderr: 'netlink: Error: cannot open' });
    await s.monitor.stop();
    expect(s.children[2]!.killed).toBe(true);
  });

  it('stop kills the child and nothing restarts', async () => {
    const s = setup();
    s.monitor.start();
    await s.monitor.stop();
    await sleep(60);
    expect(s.children).toHaveLength(1);
    expect(s.children[0]!.killed).toBe(true);
  });

  it('vouches for tsfw\'s table only while live and silent about it; an own write counts as a change', async () => {
    const fresh = createFreshness(30_000, () => performance.now());
    const s = setup(quiet, [4242], fresh);
    s.monitor.start();
    expect(fresh.stamp()).toBeUndefined();
    await sleep(150);
    const stamp = fresh.stamp();
    expect(stamp).toBeDefined();
    s.children[0]!.print('add rule inet other c counter packets 0 bytes 0 # handle 3');
    s.children[0]!.print(commit(5, 777, 'churner'));
    expect(fresh.holds(stamp)).toBe(true);
    s.children[0]!.print(rule('add'));
    s.children[0]!.print(commit(6, 4242));
    expect(fresh.holds(stamp)).toBe(false);
    expect(s.triggers).toEqual([]); // the own write caused no pass
    const again = fresh.stamp();
    s.children[0]!.exit({ exitCode: 1, stderr: '' });
    await sleep(1);
    expect(fresh.holds(again)).toBe(false);
    expect(fresh.stamp()).toBeUndefined();
    await s.monitor.stop();
  });
});
