import { execa } from 'execa';
import type { Netns } from './netns.js';
import { listenUdp } from './udp.js';

/**
 * Sockets for the profile packet tests: a UDP datagram from a fixed source port (required-ports
 * matches `udp sport`) and a TCP connection that counts only when the server answered. Every
 * packet comes from a real socket inside a test namespace.
 */

/** Sends one datagram from a fixed source port (required-ports matches `udp sport`). */
const UDP_FROM = `
const dgram = require('node:dgram');
const [src, sport, dst, dport, data] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.bind({ address: src, port: Number(sport) }, () => s.send(data, Number(dport), dst, (e) => { s.close(); console.log(e ? 'error ' + e.code : 'sent'); }));
`;

/** A TCP listener that answers "ok" to every connection. */
const TCP_SERVER = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
net.createServer((c) => c.end('ok')).listen(Number(port), host, () => console.log('ready'));
`;

/** Connects and prints "connected" when the server answered, else the error code. */
const TCP_CLIENT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const c = net.connect({ host, port: Number(port), timeout: 1500 });
c.on('data', () => { console.log('connected'); c.destroy(); });
c.on('timeout', () => { console.log('timeout'); c.destroy(); });
c.on('error', (e) => console.log('error ' + e.code));
`;

/** Sends one datagram from `src:sport` and reports whether it arrived (within 500 ms). */
export async function udpFrom(sender: Netns, receiver: Netns, opts: { src: string; sport: number; dst: string; dport: number }): Promise<boolean> {
  const listener = await listenUdp(receiver, opts.dport);
  try {
    const token = `t${Math.random().toString(16).slice(2)}`;
    await execa('ip', ['netns', 'exec', sender.name, process.execPath, '-e', UDP_FROM, opts.src, String(opts.sport), opts.dst, String(opts.dport), token]);
    const deadline = Date.now() + 500;
    while (Date.now() < deadline) {
      if (listener.received.some((r) => r.data === token)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  } finally {
    await listener.close();
  }
}

/** Starts a TCP server in `server`, connects from `client`: true when the server answered. */
export async function tcpConnects(client: Netns, server: Netns, host: string, port: number): Promise<boolean> {
  const srv = execa('ip', ['netns', 'exec', server.name, process.execPath, '-e', TCP_SERVER, host, String(port)], { reject: false, buffer: false });
  try {
    await new Promise<void>((resolve, reject) => {
      srv.stdout?.on('data', (d: Buffer) => (d.toString().includes('ready') ? resolve() : undefined));
      srv.once('exit', () => reject(new Error('tcp server exited')));
    });
    const r = await execa('ip', ['netns', 'exec', client.name, process.execPath, '-e', TCP_CLIENT, host, String(port)]);
    return String(r.stdout).trim() === 'connected';
  } finally {
    srv.kill('SIGKILL');
    await srv;
  }
}
