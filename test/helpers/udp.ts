import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import type { Netns } from './netns.js';

/**
 * Real datagrams between test namespaces: a listener process inside one namespace reports every
 * datagram it receives (with the source address the kernel delivered), a sender in another
 * namespace binds the source address it is told to use (which is how a spoof is staged).
 */

const LISTENER = `
const dgram = require('node:dgram');
const [type, port] = process.argv.slice(1);
const s = dgram.createSocket({ type, reuseAddr: true });
s.on('message', (msg, rinfo) => process.stdout.write(JSON.stringify({ from: rinfo.address, data: msg.toString() }) + '\\n'));
s.bind(Number(port), () => process.stdout.write('ready\\n'));
`;

const SENDER = `
const dgram = require('node:dgram');
const [type, src, dst, port, data] = process.argv.slice(1);
const s = dgram.createSocket(type);
s.bind({ address: src }, () => s.send(data, Number(port), dst, (e) => { s.close(); if (e) { console.error(e.message); process.exit(1); } }));
`;

export interface Received {
  readonly from: string;
  readonly data: string;
}

export interface UdpListener {
  readonly received: Received[];
  close(): Promise<void>;
}

/** `execPath`: the node binary to run (a symlink named `tailscaled` makes a stand-in tailscaled). */
export async function listenUdp(ns: Netns, port: number, family: 4 | 6 = 4, execPath = process.execPath): Promise<UdpListener> {
  const child: ResultPromise = execa('ip', ['netns', 'exec', ns.name, execPath, '-e', LISTENER, `udp${family}`, String(port)], {
    reject: false,
    buffer: false,
  });
  const received: Received[] = [];
  await new Promise<void>((resolve, reject) => {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === 'ready') resolve();
        else if (line) received.push(JSON.parse(line) as Received);
      }
    });
    child.once('exit', () => reject(new Error(`listener on ${ns.name}:${port} exited`)));
  });
  return {
    received,
    async close() {
      child.kill('SIGKILL');
      await child;
    },
  };
}

export async function sendUdp(ns: Netns, opts: { src: string; dst: string; port: number; data: string }): Promise<void> {
  const family = opts.dst.includes(':') ? 'udp6' : 'udp4';
  await execa('ip', ['netns', 'exec', ns.name, process.execPath, '-e', SENDER, family, opts.src, opts.dst, String(opts.port), opts.data]);
}

/**
 * Sends one datagram and reports whether (and from which source address) it arrived. A missing
 * datagram is only concluded after `waitMs`, so a slow machine cannot turn "late" into "dropped".
 */
export async function probeUdp(
  sender: Netns,
  receiver: Netns,
  opts: { src: string; dst: string; port: number; waitMs?: number },
): Promise<{ arrived: boolean; from?: string }> {
  const listener = await listenUdp(receiver, opts.port, opts.dst.includes(':') ? 6 : 4);
  try {
    const token = randomBytes(6).toString('hex');
    await sendUdp(sender, { ...opts, data: token });
    const deadline = Date.now() + (opts.waitMs ?? 500);
    while (Date.now() < deadline) {
      const hit = listener.received.find((r) => r.data === token);
      if (hit) return { arrived: true, from: hit.from.replace(/^::ffff:/, '') };
      await new Promise((r) => setTimeout(r, 10));
    }
    return { arrived: false };
  } finally {
    await listener.close();
  }
}
