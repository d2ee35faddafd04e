import { describe, expect, it } from 'vitest';
import { parseLoopbackListen } from './listen.js';

describe('parseLoopbackListen', () => {
  it('accepts IPv4 and IPv6 loopback addresses', () => {
    expect(parseLoopbackListen('127.0.0.1:9101')).toEqual({ host: '127.0.0.1', port: 9101 });
    expect(parseLoopbackListen('127.0.0.53:80')).toEqual({ host: '127.0.0.53', port: 80 });
    expect(parseLoopbackListen('[::1]:9101')).toEqual({ host: '::1', port: 9101 });
  });
  it('rejects non-loopback addresses, names and bad ports', () => {
    expect(parseLoopbackListen('0.0.0.0:9101')).toMatch(/not a loopback/);
    expect(parseLoopbackListen('192.0.2.1:9101')).toMatch(/not a loopback/);
    expect(parseLoopbackListen('[2001:db8::1]:9101')).toMatch(/not a loopback/);
    expect(parseLoopbackListen('localhost:9101')).toMatch(/not an IP address/);
    expect(parseLoopbackListen('127.0.0.1:0')).toMatch(/between 1 and 65535/);
    expect(parseLoopbackListen('127.0.0.1:70000')).toMatch(/between 1 and 65535/);
    expect(parseLoopbackListen('127.0.0.1')).toMatch(/must be/);
    expect(parseLoopbackListen('::1:9101')).toMatch(/must be/);
  });
});

describe('config metrics keys', () => {
  it('rejects a non-loopback listener and a relative textfile, naming the key', async () => {
    const { parseConfigText } = await import('./parse.js');
    expect(() => parseConfigText('metrics: { listen: "0.0.0.0:9101" }', 'c')).toThrow(/metrics\.listen: 0\.0\.0\.0 is not a loopback/);
    expect(() => parseConfigText('metrics: { textfile: tsfw.prom }', 'c')).toThrow(/metrics\.textfile/);
    expect(parseConfigText('metrics: { listen: "127.0.0.1:9101", textfile: /var/lib/node_exporter/tsfw.prom }', 'c').config.metrics)
      .toEqual({ listen: '127.0.0.1:9101', textfile: '/var/lib/node_exporter/tsfw.prom' });
  });
});
