import { describe, expect, it } from 'vitest';
import { OwnPids } from './own-writes.js';

describe('OwnPids', () => {
  it('knows the daemon\'s children for keepMs, then forgets them (a recycled pid is another program\'s)', () => {
    let now = 0;
    const own = new OwnPids(() => now, 1000);
    own.add(10);
    now = 500;
    own.add(11);
    expect(own.has(10)).toBe(true);
    expect(own.has(12)).toBe(false);
    now = 1000;
    expect(own.has(10)).toBe(false);
    expect(own.has(11)).toBe(true);
    own.add(10); // the same pid again, later: known again from now
    now = 1600;
    expect(own.has(11)).toBe(false);
    expect(own.has(10)).toBe(true);
  });
});
