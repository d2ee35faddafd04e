import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import type { Netns } from './netns.js';

/**
 * Proves what a step wrote to nf_tables (or that it wrote nothing) by recording the `nft -j
 * monitor` events of a namespace around it. Canary tables mark the start and the end of the
 * recording, so "no events" cannot mean "the monitor was not listening yet" or "not flushed yet".
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `step` and returns its result with every nf_tables change event it caused (JSON lines). */
export async function recordNftEvents<T>(ns: Netns, step: () => Promise<T>): Promise<{ result: T; events: string[] }> {
  const lines: string[] = [];
  const child = execa('ip', ['netns', 'exec', ns.name, 'nft', '-j', 'monitor'], { reject: false, buffer: false });
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  const canary = async () => {
    const name = `tsfwcanary_${randomBytes(3).toString('hex')}`;
    await ns.exec('nft', ['add', 'table', 'inet', name]);
    await ns.exec('nft', ['delete', 'table', 'inet', name]);
    return name;
  };
  /** Index just past the delete event of canary `name`, once the monitor has printed it. */
  const waitFor = async (name: string, timeoutMs: number): Promise<number | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const at = lines.findIndex((l) => l.includes('"delete"') && l.includes(`"${name}"`));
      if (at >= 0) return at + 1;
      await sleep(10);
    }
    return undefined;
  };
  try {
    // The monitor subscribes asynchronously: repeat the start canary until it is seen.
    let start: number | undefined;
    for (let attempt = 0; start === undefined && attempt < 100; attempt++) start = await waitFor(await canary(), 100);
    if (start === undefined) throw new Error(`nft monitor in ${ns.name} never reported the start canary`);
    const result = await step();
    const end = await canary();
    const stop = await waitFor(end, 5_000);
    if (stop === undefined) throw new Error(`nft monitor in ${ns.name} never reported the end canary`);
    // Drop the end canary's own add/delete events.
    const events = lines.slice(start, stop).filter((l) => !l.includes(`"${end}"`));
    return { result, events };
  } finally {
    child.kill('SIGKILL');
    await child;
  }
}
