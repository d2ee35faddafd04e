import { describe, expect, it } from 'vitest';
import { parsePrefix, prefixContains, prefixHasAddress } from './net.js';

describe('parsePrefix', () => {
  it('parses IPv4 and IPv6 CIDRs canonically', () => {
    expect(parsePrefix('100.64.0.0/10')).toEqual({ family: 'ip', addr: '100.64.0.0', len: 10 });
    expect(parsePrefix('fd7a:115c:a1e0:0::/48')).toEqual({ family: 'ip6', addr: 'fd7a:115c:a1e0::', len: 48 });
    expect(parsePrefix('192.0.2.7')).toEqual({ family: 'ip', addr: '192.0.2.7', len: 32 });
  });
  it('rejects garbage, oversized prefixes and host bits', () => {
    expect(parsePrefix('100.64.0.0/33')).toMatch(/not an IP/);
    expect(parsePrefix('300.1.1.1')).toMatch(/not an IP/);
    expect(parsePrefix('100.64.0.1/10')).toMatch(/host bits set.*100\.64\.0\.0\/10/);
    expect(parsePrefix('::ffff:1.2.3.4')).toMatch(/IPv4-mapped/);
  });
  it('answers containment', () => {
    const cgnat = parsePrefix('100.64.0.0/10');
    const chromeos = parsePrefix('100.115.92.0/23');
    if (typeof cgnat === 'string' || typeof chromeos === 'string') throw new Error('parse');
    expect(prefixContains(cgnat, chromeos)).toBe(true);
    expect(prefixContains(chromeos, cgnat)).toBe(false);
    expect(prefixHasAddress(cgnat, '100.100.100.100')).toBe(true);
    expect(prefixHasAddress(cgnat, '192.0.2.1')).toBe(false);
  });
});
