import { describe, expect, it } from 'vitest';
import { randomHex } from './random.js';

describe('randomHex', () => {
  it('gives the asked number of bytes as hex, different every call', () => {
    const seen = new Set(Array.from({ length: 200 }, () => randomHex(8)));
    expect(seen.size).toBe(200);
    for (const value of seen) expect(value).toMatch(/^[0-9a-f]{16}$/);
    expect(randomHex(1)).toMatch(/^[0-9a-f]{2}$/);
  });
});
