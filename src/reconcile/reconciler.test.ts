import { Writable } from 'node:stream';
import { createLogger } from '../log/logger.js';
import { describe, expect, it } from 'vitest';
import type { Piece } from '../backends/transaction.js';
import type { Backend, Plan } from '../backends/types.js';
import type { Ruleset } from '../model/types.js';
import { TokenBucket } from './bucket.js';
import type { Timers } from './coalesce.js';
import { FightLog, REUNDO_WINDOW_MS } from './drift.js';
import { ExecError } from '../exec/errors.js';
import { createReconciler, SETTLE_MAX_MS, SETTLE_MS } from './reconciler.js';
import type { PassOutcome, ReconcilerDeps } from './reconciler.js';

/** A one-value "kernel": the backend writes the desired mode into it; tampering changes it. */
function world() {
  const kernel = { value: 'absent', writes: 0, observes: 0, observeDelayMs: 0 };
  /** Each op carries the mode it writes as its one piece. */
  type ModePiece = Piece<'mode', string>;
  const backend: Backend<string, ModePiece> = {
    name: 'fake',
    async observe() {
      if (kernel.observeDelayMs) await new Promise((r) => setTimeout(r, kernel.observeDelayMs));
      kernel.observes += 1;
      return kernel.value;
    },
    plan(desired: Ruleset, state: string): Plan<ModePiece> {
      if (state === desired.mode) return { ops: [], drift: [], warnings: [] };
      return {
        ops: [{ op: 'fill-chain', family: 'inet', table: 'tsfw', chain: 'ts-input', reason: 'differs', pieces: [{ section: 'mode', body: desired.mode }] }],
        drift: [{ kind: 'changed', family: 'inet', table: 'tsfw', chain: 'ts-input', detail: `ts-input is ${state}` }],
        warnings: [],
      };
    },
    async apply(plan) {
      kernel.writes += 1;
      kernel.value = plan.ops[0]!.pieces[0]!.body;
    },
    // One rule whose "counter" is the state it was read from, so tests see which reading was used.
    inspect: (d, state) => [{ family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/x', present: state === d.mode }],
    render: () => '',
    writes: (plan) => plan.ops.map((op) => ({ file: 'fake', args: [], input: op.pieces[0]!.body })),
  };
  return { kernel, backend: backend as Backend };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger('debug', stream) };
}

/** Time and timers the test moves by hand. */
function clock() {
  let now = 1_000_000;
  const timers: { at: number; fn: () => void }[] = [];
  const t: Timers = {
    setTimeout(fn, ms) {
      const entry = { at: now + ms, fn };
      timers.push(entry);
      return entry;
    },
    clearTimeout(handle) {
      const i = timers.indexOf(handle as { at: number; fn: () => void });
      if (i >= 0) timers.splice(i, 1);
    },
  };
  return {
    now: () => now,
    timers: t,
    advance(ms: number) {
      now += ms;
      for (const entry of timers.filter((e) => e.at <= now)) {
        timers.splice(timers.indexOf(entry), 1);
        entry.fn();
      }
    },
  };
}

const desired: Ruleset = { mode: 'on', families: ['ip'], chains: [] };

function setup(burst = 3, inspect?: () => boolean) {
  const w = world();
  const c = clock();
  const { lines, log } = capture();
  const outcomes: PassOutcome[] = [];
  const deps: ReconcilerDeps = {
    target: () => ({ backend: w.backend, desired }),
    withLock: (fn) => fn(),
    bucket: new TokenBucket({ burst, refillPerMinute: 6 }, c.now()),
    fights: new FightLog(60_000),
    now: c.now,
    timers: c.timers,
    log,
    onPass: (o) => outcomes.push(o),
    ...(inspect ? { inspect } : {}),
  };
  return { ...w, clock: c, lines, outcomes, reconciler: createReconciler(deps) };
}

describe('reconciler', () => {
  it('repairs drift once and logs one line naming what drifted and what was done; quiet passes stay at debug', async () => {
    const s = setup();
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    s.reconciler.trigger({ cause: 'schedule' });
    await s.reconciler.idle();
    expect(s.kernel).toMatchObject({ value: 'on', writes: 1 });
    expect(s.outcomes.map((o) => o.result)).toEqual(['repaired', 'quiet']);
    const aboveDebug = s.lines.filter((l) => (l.level as number) > 20);
    expect(aboveDebug).toHaveLength(1);
    expect(aboveDebug[0]).toMatchObject({ msg: 'netfilter drift repaired', cause: 'startup', drift: ['ts-input is absent'], actions: ['fill-chain inet tsfw ts-input'] });
  });

  it('queues at most one follow-up pass however many triggers arrive during a pass', async () => {
    const s = setup();
    s.kernel.observeDelayMs = 20;
    s.reconciler.trigger({ cause: 'startup' });
    for (let i = 0; i < 50; i++) s.reconciler.trigger({ cause: 'event', detail: `e${i}` });
    await s.reconciler.idle();
    expect(s.outcomes.map((o) => [o.trigger.cause, o.trigger.detail])).toEqual([['startup', undefined], ['event', 'e0']]);
  });

  it('an admin trigger queued behind events wins the follow-up (it must use the new config)', async () => {
    const s = setup();
    s.kernel.observeDelayMs = 10;
    s.reconciler.trigger({ cause: 'schedule' });
    s.reconciler.trigger({ cause: 'event' });
    s.reconciler.trigger({ cause: 'sighup' });
    await s.reconciler.idle();
    expect(s.outcomes.map((o) => o.trigger.cause)).toEqual(['schedule', 'sighup']);
  });

  it('backs off when repairs keep being undone, says so once with the object and count, and resumes when a token is back', async () => {
    const s = setup(3);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    // Another program undoes tsfw again and again; each undo is an event.
    for (let i = 0; i < 8; i++) {
      s.kernel.value = 'tampered';
      s.reconciler.trigger({ cause: 'event', detail: 'delete rule inet tsfw ts-input', by: 'fighter[99]' });
      await s.reconciler.idle();
      s.clock.advance(100);
    }
    // startup is free; 3 event repairs spend the burst; the other 5 are held.
    expect(s.kernel.writes).toBe(4);
    expect(s.kernel.value).toBe('tampered');
    expect(s.outcomes.map((o) => o.result)).toEqual(['repaired', 'repaired', 'repaired', 'repaired', 'held', 'held', 'held', 'held', 'held']);
    const backoffLines = s.lines.filter((l) => l.msg === 'repairs keep being undone: backing off');
    expect(backoffLines).toHaveLength(1);
    expect(backoffLines[0]).toMatchObject({ objects: [{ object: 'inet tsfw chain ts-input', count: 3 }], writers: ['fighter'], drift: ['inet tsfw chain ts-input'] });
    expect(s.reconciler.backoff()).toMatchObject({ active: true, heldPasses: 5, episodes: 1 });
    // One token refills in 10 s (6 per minute): the backoff timer runs a pass that repairs.
    s.clock.advance(10_000);
    await s.reconciler.idle();
    expect(s.kernel).toMatchObject({ value: 'on', writes: 5 });
    expect(s.outcomes.at(-1)).toMatchObject({ result: 'repaired', trigger: { cause: 'backoff-end' } });
    expect(s.reconciler.backoff()).toMatchObject({ active: false, episodes: 1 });
  });

  it('startup and reload passes never spend the repair budget', async () => {
    const s = setup(1);
    for (let i = 0; i < 5; i++) {
      s.kernel.value = 'tampered';
      s.reconciler.trigger({ cause: i % 2 ? 'sighup' : 'config' });
      await s.reconciler.idle();
    }
    expect(s.kernel.writes).toBe(5);
    expect(s.reconciler.backoff().active).toBe(false);
  });

  it('a failing pass is logged with its cause and the loop keeps working', async () => {
    const s = setup();
    let fail = true;
    const original = s.backend.observe.bind(s.backend);
    s.backend.observe = async () => {
      if (fail) throw new Error('nft: netlink: Operation not permitted');
      return original();
    };
    s.reconciler.trigger({ cause: 'schedule' });
    await s.reconciler.idle();
    fail = false;
    s.reconciler.trigger({ cause: 'schedule' });
    await s.reconciler.idle();
    expect(s.outcomes.map((o) => o.result)).toEqual(['error', 'repaired']);
    const error = s.lines.find((l) => l.msg === 'reconcile pass failed');
    expect(error).toMatchObject({ cause: 'schedule', err: { message: 'nft: netlink: Operation not permitted' } });
  });

  it('hands over the objects of the state the pass read last (after its write) only when asked, with no extra observe', async () => {
    let wanted = false;
    const s = setup(3, () => wanted);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    expect(s.outcomes[0]?.objects).toBeUndefined();
    expect(s.kernel.observes).toBe(2); // before and after the write
    wanted = true;
    s.kernel.value = 'tampered';
    s.reconciler.trigger({ cause: 'event' });
    await s.reconciler.idle();
    expect(s.outcomes[1]).toMatchObject({ result: 'repaired', objects: [{ rule: 'ts-input/x', present: true }] });
    s.reconciler.trigger({ cause: 'schedule' });
    await s.reconciler.idle();
    expect(s.outcomes[2]).toMatchObject({ result: 'quiet', objects: [{ rule: 'ts-input/x', present: true }] });
    expect(s.kernel.observes).toBe(5);
    s.kernel.value = 'tampered';
    s.backend.apply = async () => undefined; // a write that does not stick: the pass fails
    s.reconciler.trigger({ cause: 'event' });
    await s.reconciler.idle();
    expect(s.outcomes[3]).toMatchObject({ result: 'error', objects: [{ present: false }] });
  });

  it('a burst of distinct changes is repaired at full speed: eight tampers of different objects within 10 s never back off', async () => {
    const s = setup(3);
    const chains = ['ts-input', 'ts-forward', 'ts-postrouting', 'tsfw-filter-input', 'tsfw-filter-forward', 'tsfw-nat-postrouting', 'ts-prerouting', 'ts-output'];
    const missing = new Set<string>();
    s.backend.observe = async () => [...missing].join(',');
    s.backend.plan = (_d, state) => {
      const gone = String(state).split(',').filter(Boolean);
      return {
        ops: gone.map((chain) => ({ op: 'fill-chain' as const, family: 'inet', table: 'tsfw', chain, reason: 'missing', pieces: [{ section: 'mode' as const, body: chain }] })),
        drift: gone.map((chain) => ({ kind: 'missing' as const, family: 'inet', table: 'tsfw', chain, detail: `${chain} is missing` })),
        warnings: [],
      };
    };
    s.backend.apply = async () => missing.clear();
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    for (const chain of chains) {
      missing.add(chain);
      s.reconciler.trigger({ cause: 'event', detail: `delete chain inet tsfw ${chain}` });
      await s.reconciler.idle();
      s.clock.advance(1_200);
    }
    expect(s.outcomes.map((o) => o.result)).toEqual(['quiet', ...Array(chains.length).fill('repaired')]);
    expect(s.reconciler.backoff()).toMatchObject({ active: false, episodes: 0 });
    expect(s.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('the same object undone again, but long after its repair, is not a fight', async () => {
    const s = setup(1);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    for (let i = 0; i < 5; i++) {
      s.clock.advance(REUNDO_WINDOW_MS + 1);
      s.kernel.value = 'tampered';
      s.reconciler.trigger({ cause: 'event' });
      await s.reconciler.idle();
    }
    expect(s.outcomes.map((o) => o.result)).toEqual(Array(6).fill('repaired'));
    expect(s.reconciler.backoff().active).toBe(false);
  });

  it('a write raced by another writer is retried at once and logged at debug, not error, spending the budget once', async () => {
    const s = setup(1);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    const apply = s.backend.apply.bind(s.backend);
    let races = 2;
    s.backend.apply = async (plan) => {
      if (races-- > 0) throw new ExecError('raced', 'nft -j -f -', 1, 'Error: Could not process rule: No such file or directory');
      return apply(plan);
    };
    s.kernel.value = 'tampered';
    s.reconciler.trigger({ cause: 'event' });
    await s.reconciler.idle();
    expect(s.outcomes.map((o) => o.result)).toEqual(['repaired', 'repaired']);
    expect(s.kernel.value).toBe('on');
    expect(s.lines.filter((l) => l.msg === 'state changed underneath a write: retrying').map((l) => l.level)).toEqual([20, 20]);
    expect(s.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(s.reconciler.backoff().active).toBe(false);
  });

  it('a write refused because another program changed the state after the read is a race too (debug, retried at once)', async () => {
    const s = setup(3);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    const apply = s.backend.apply.bind(s.backend);
    let refusals = 1;
    s.backend.apply = async (plan) => {
      if (refusals-- > 0) {
        // The other program's second step lands between our read and our write.
        s.kernel.value = 'tampered again';
        throw new ExecError('failed', 'nft -j -f -', 1, 'Error: Could not process rule: Operation not supported');
      }
      return apply(plan);
    };
    s.kernel.value = 'tampered';
    s.reconciler.trigger({ cause: 'event' });
    await s.reconciler.idle();
    expect(s.kernel.value).toBe('on');
    expect(s.lines.filter((l) => l.msg === 'state changed underneath a write: retrying')).toHaveLength(1);
    expect(s.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('a write that fails on an unchanged state is an error, not retried as a race', async () => {
    const s = setup(3);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    s.backend.apply = async () => {
      throw new ExecError('failed', 'nft -j -f -', 1, 'Error: Could not process rule: Operation not supported');
    };
    s.kernel.value = 'tampered';
    s.reconciler.trigger({ cause: 'event' });
    await s.reconciler.idle();
    expect(s.outcomes.at(-1)!.result).toBe('error');
    expect(s.lines.filter((l) => l.msg === 'state changed underneath a write: retrying')).toEqual([]);
    expect(s.lines.filter((l) => l.msg === 'reconcile pass failed')).toHaveLength(1);
  });

  it('runs nothing after stop', async () => {
    const s = setup();
    await s.reconciler.stop();
    s.reconciler.trigger({ cause: 'schedule' });
    await s.reconciler.idle();
    expect(s.outcomes).toEqual([]);
  });

  /** A kernel where another writer pushes tsfw's jump down (drift `misordered`) and tsfw moves it back. */
  function displacing(s: ReturnType<typeof setup>) {
    const k = { displaced: false };
    s.backend.observe = async () => (k.displaced ? 'displaced' : 'first');
    s.backend.plan = (_d, state) => (state === 'first' ? { ops: [], drift: [], warnings: [] } : {
      ops: [{ op: 'fill-chain' as const, family: 'ip', table: 'filter', chain: 'FORWARD', reason: 'jump moved', pieces: [{ section: 'mode' as const, body: 'x' }] }],
      drift: [{ kind: 'misordered' as const, family: 'ip', table: 'filter', chain: 'FORWARD', detail: 'jump to ts-forward is at position 3, expected 1' }],
      warnings: [],
    });
    s.backend.apply = async () => {
      s.kernel.writes += 1;
      k.displaced = false;
    };
    return k;
  }

  it('dockerd-style start-up bursts (three inserts above tsfw\'s jump within 0.2 s), six in a row 1.5 s apart: one repair each, no backoff, no error line', async () => {
    const s = setup(10);
    const k = displacing(s);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    for (let restart = 0; restart < 6; restart++) {
      for (let insert = 0; insert < 3; insert++) {
        k.displaced = true;
        s.reconciler.trigger({ cause: 'event', detail: `insert ${insert}` });
        await s.reconciler.idle();
        s.clock.advance(100);
      }
      // The burst is over: the settled pass moves the jump back.
      s.clock.advance(SETTLE_MS);
      await s.reconciler.idle();
      expect(k.displaced).toBe(false);
      s.clock.advance(1_500 - 300 - SETTLE_MS);
    }
    expect(s.reconciler.backoff()).toMatchObject({ active: false, episodes: 0 });
    expect(s.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    // The first insert of the first burst is not a re-undo (repaired at once); later ones settle.
    expect(s.kernel.writes).toBe(1 + 6);
    expect(s.outcomes.filter((o) => o.trigger.settled).map((o) => [o.trigger.cause, o.result])).toEqual(Array(6).fill(['event', 'repaired']));
    expect(s.outcomes.filter((o) => o.result === 'settling')).toHaveLength(3 * 6 - 1);
  });

  it('a writer that never pauses is repaired every SETTLE_MAX_MS at the latest and still backs off', async () => {
    const s = setup(3);
    const k = displacing(s);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    for (let i = 0; i < 200 && !s.reconciler.backoff().active; i++) {
      k.displaced = true;
      s.reconciler.trigger({ cause: 'event' });
      await s.reconciler.idle();
      s.clock.advance(100);
    }
    expect(s.reconciler.backoff().active).toBe(true);
    const repairs = s.outcomes.filter((o) => o.result === 'repaired').map((o) => o.at);
    for (let i = 2; i < repairs.length; i++) expect(repairs[i]! - repairs[i - 1]!).toBeGreaterThanOrEqual(SETTLE_MAX_MS - 100);
  });

  it('a displacement found by the schedule (iptables-legacy: no events) is repaired at once', async () => {
    const s = setup(10);
    const k = displacing(s);
    k.displaced = true;
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    // Undone again right after the start-up repair: a re-undo, paid at once.
    k.displaced = true;
    s.reconciler.trigger({ cause: 'schedule' });
    await s.reconciler.idle();
    expect(s.outcomes.map((o) => o.result)).toEqual(['repaired', 'repaired']);
    expect(k.displaced).toBe(false);
  });

  it('a re-undo that deletes (not only moves) tsfw\'s object still spends the budget at once', async () => {
    const s = setup(1);
    s.reconciler.trigger({ cause: 'startup' });
    await s.reconciler.idle();
    for (let i = 0; i < 3; i++) {
      s.kernel.value = 'tampered';
      s.reconciler.trigger({ cause: 'event' });
      await s.reconciler.idle();
    }
    expect(s.outcomes.map((o) => o.result)).toEqual(['repaired', 'repaired', 'held', 'held']);
  });
});
