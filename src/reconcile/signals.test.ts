import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installSignalGate } from './signals.js';

function recorder() {
  const calls: string[] = [];
  return { calls, actions: { reload: () => calls.push('reload'), stop: (s: NodeJS.Signals) => calls.push(`stop ${s}`) } };
}

describe('the daemon signal gate', () => {
  it('queues one reload that arrives before the daemon attaches and replays it', () => {
    const source = new EventEmitter();
    const gate = installSignalGate(source);
    source.emit('SIGHUP');
    source.emit('SIGHUP');
    const r = recorder();
    gate.attach(r.actions);
    expect(r.calls).toEqual(['reload']);
  });

  it('a stop before attach wins over a queued reload', () => {
    const source = new EventEmitter();
    const gate = installSignalGate(source);
    source.emit('SIGHUP');
    source.emit('SIGINT');
    source.emit('SIGTERM');
    const r = recorder();
    gate.attach(r.actions);
    expect(r.calls).toEqual(['stop SIGINT']);
  });

  it('passes every later signal straight through, repeated stops included, and never removes its listeners', () => {
    const source = new EventEmitter();
    const gate = installSignalGate(source);
    const r = recorder();
    gate.attach(r.actions);
    source.emit('SIGHUP');
    source.emit('SIGTERM');
    source.emit('SIGTERM');
    expect(r.calls).toEqual(['reload', 'stop SIGTERM', 'stop SIGTERM']);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) expect(source.listenerCount(s)).toBe(1);
  });

  it('attaches with nothing queued: nothing is called', () => {
    const gate = installSignalGate(new EventEmitter());
    const r = recorder();
    gate.attach(r.actions);
    expect(r.calls).toEqual([]);
  });
});
