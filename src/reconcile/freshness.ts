import { OwnPids } from './own-writes.js';

/**
 * When the daemon may reuse what a probe read in an earlier pass instead of spawning it again
 * (the tunnel's addresses, whether Docker's chains exist): only while a watcher that reports
 * every change of that thing (`ip monitor address`, `nft monitor`) is live, has reported nothing
 * since the probe began, and the answer is younger than `maxAgeMs` (a safety net for what a
 * watcher cannot see). A watcher going down or up counts as a change. Pure: the clock is injected.
 */

/** A point in the watcher's history, taken just before a probe reads. */
export interface Stamp {
  readonly epoch: number;
  readonly at: number;
}

/** The watcher's side (`changed`, `setLive`) and the probe's side (`stamp`, `holds`). */
export interface Freshness {
  /** The watcher reported something that may concern the probe. */
  changed(): void;
  /** The watcher is subscribed (true) or gone (false). */
  setLive(live: boolean): void;
  /** Taken before a probe reads; undefined when no live watcher vouches for its answer. */
  stamp(): Stamp | undefined;
  /** Whether an answer read after `stamp` still holds now. */
  holds(stamp: Stamp | undefined): boolean;
}

/** Builds one; nothing holds until the watcher says it is live. */
export function createFreshness(maxAgeMs: number, now: () => number): Freshness {
  let epoch = 0;
  let live = false;
  return {
    changed() {
      epoch += 1;
    },
    setLive(value) {
      live = value;
      epoch += 1;
    },
    stamp: () => (live ? { epoch, at: now() } : undefined),
    holds: (stamp) => stamp !== undefined && live && stamp.epoch === epoch && now() - stamp.at < maxAgeMs,
  };
}

/** A probe whose last answer is reused while `fresh` says it holds; `forget` after a write of one's own. */
export interface Reusable<T> {
  get(): Promise<T>;
  forget(): void;
}

/** Wraps `read`; without `fresh` (a one-shot CLI pass) every `get` reads. Failed reads are not kept. */
export function reusable<T>(read: () => Promise<T>, fresh: Freshness | undefined): Reusable<T> {
  let last: { readonly value: T; readonly stamp: Stamp | undefined } | undefined;
  return {
    async get() {
      if (last && fresh?.holds(last.stamp)) return last.value;
      const stamp = fresh?.stamp();
      const value = await read();
      last = { value, stamp };
      return value;
    },
    forget() {
      last = undefined;
    },
  };
}

/** The longest the daemon reuses a probe's answer even with a silent, live watcher. */
export const REUSE_MAX_AGE_MS = 30_000;

/** What the daemon's watchers vouch for: the tunnel's addresses, Docker's chains in iptables-nft, tsfw's own table. */
export interface WatchHints {
  /** `ip -o monitor address` (address-watch.ts): any address change on any interface. */
  readonly addresses: Freshness;
  /** `nft monitor` (monitor.ts): any change in `ip filter` / `ip6 filter`. */
  readonly iptFilter: Freshness;
  /** `nft monitor`: any change in the tables it watches for the backend (tsfw's own nftables table). */
  readonly scopeTables: Freshness;
  /** The daemon's own children (the runner adds them): their transactions cause no pass. */
  readonly own: OwnPids;
}

/** The daemon's hints, built once and shared by its watchers and its pass steps. */
export function createWatchHints(now: () => number, maxAgeMs = REUSE_MAX_AGE_MS): WatchHints {
  return { addresses: createFreshness(maxAgeMs, now), iptFilter: createFreshness(maxAgeMs, now), scopeTables: createFreshness(maxAgeMs, now), own: new OwnPids(now) };
}
