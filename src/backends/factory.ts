import { existsSync } from 'node:fs';
import type { ConcreteBackend, Config } from '../config/schema.js';
import type { CommandRunner } from '../exec/runner.js';
import { FAMILIES } from '../model/types.js';
import type { Family } from '../model/types.js';
import { createIptablesBackend } from './iptables/backend.js';
import type { IptBackendOptions } from './iptables/backend.js';
import { BUILTIN_CHAINS, IPT_TABLES } from './iptables/render.js';
import { createNftablesBackend } from './nftables/backend.js';
import type { NftOptions } from './nftables/render.js';
import type { NftReads } from './nftables/backend.js';
import type { Backend } from './types.js';

/**
 * The one place that turns a config into a backend. The CLI, the daemon, doctor and the leftover
 * scan all build through here, so an option added to a backend cannot be forgotten on one path,
 * and the daemon rebuilds exactly when something a backend was built from has changed.
 */

/** Which kernel events concern a backend: its tables, and the foreign chains it writes jumps into. */
export interface BackendEventScope {
  /** `family table` pairs, e.g. `inet tsfw`, `ip filter`. */
  readonly tables: readonly string[];
  /** Built-in chains holding tsfw's jumps; other chains tsfw does not own cause no pass. */
  readonly builtins: readonly string[];
}

/** Everything one backend is built from, plus what callers need to know about it. */
export type BackendSpec =
  | { readonly name: 'nftables'; readonly options: NftOptions; readonly key: string; readonly eventScope: BackendEventScope }
  | {
    readonly name: 'iptables-nft' | 'iptables-legacy';
    readonly options: Omit<IptBackendOptions, 'sleep'>;
    readonly key: string;
    /** Undefined for iptables-legacy: nft cannot see x_tables changes. */
    readonly eventScope?: BackendEventScope;
  };

export interface SpecOptions {
  /** Families to handle instead of config.families (the leftover scan reads every family). */
  readonly families?: readonly Family[];
}

/** Derives a backend's options, rebuild key and event scope from the config. Pure. */
export function backendSpec(name: ConcreteBackend, config: Config, opts: SpecOptions = {}): BackendSpec {
  if (name === 'nftables') {
    const options: NftOptions = { table: config.nftables.table, priorities: config.nftables.priorities };
    return { name, options, key: JSON.stringify({ name, options }), eventScope: { tables: [`inet ${options.table}`], builtins: [] } };
  }
  const families = opts.families ?? config.families;
  const options = {
    flavour: name === 'iptables-nft' ? 'nft' : 'legacy',
    families: [...families],
    jumpPosition: config.jumpPosition,
  } as const;
  const key = JSON.stringify({ name, options });
  if (name === 'iptables-legacy') return { name, options, key };
  const builtins = [...new Set(IPT_TABLES.flatMap((t) => BUILTIN_CHAINS[t]))];
  return { name, options, key, eventScope: { tables: families.flatMap((f) => IPT_TABLES.map((t) => `${f} ${t}`)), builtins } };
}

/** Builds the backend a spec describes; `nftReads`: how an nftables backend reads (the daemon's). */
export function buildBackend(spec: BackendSpec, runner: CommandRunner, nftReads?: NftReads): Backend {
  return spec.name === 'nftables'
    ? createNftablesBackend(runner, spec.options, nftReads) as Backend
    : createIptablesBackend(runner, spec.options) as Backend;
}

/** Builds the backend for a concrete choice with the config's own settings. */
export function createBackend(name: ConcreteBackend, config: Config, runner: CommandRunner): Backend {
  return buildBackend(backendSpec(name, config), runner);
}

export interface HostProbe {
  readonly exists?: (path: string) => boolean;
  readonly procNet?: string;
}

/**
 * The families in which a backend can hold objects at all. iptables-legacy tables exist only when
 * x_tables is loaded (`/proc/net/ip{,6}_tables_names`); asking legacy tools otherwise loads it.
 */
export function familiesPresent(name: ConcreteBackend, probe: HostProbe = {}): Family[] {
  if (name !== 'iptables-legacy') return [...FAMILIES];
  const exists = probe.exists ?? existsSync;
  const procNet = probe.procNet ?? '/proc/net';
  return FAMILIES.filter((f) => exists(`${procNet}/${f}_tables_names`));
}

/**
 * What a change of settings from `old` to `next` leaves behind and must be removed: the whole old
 * backend (another backend or nft table), only the dropped families (same iptables flavour), or
 * nothing (same objects, e.g. new priorities, which the next plan rewrites in place). Pure.
 */
export function retiredBy(old: BackendSpec, next: BackendSpec): BackendSpec | undefined {
  if (old.key === next.key) return undefined;
  if (old.name === 'nftables' && next.name === 'nftables') {
    return old.options.table === next.options.table ? undefined : old;
  }
  if (old.name !== next.name || old.name === 'nftables' || next.name === 'nftables') return old;
  const kept = new Set(next.options.families);
  const dropped = old.options.families.filter((f) => !kept.has(f));
  if (dropped.length === 0) return undefined;
  const options = { ...old.options, families: dropped };
  return { ...old, options, key: JSON.stringify({ name: old.name, options }) };
}
