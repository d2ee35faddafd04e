import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { readUfwSnapshot, UFW_PATHS } from './ufw/files.js';
import type { UfwPaths } from './ufw/files.js';

/**
 * Which firewall managers are in charge of this host now, from cheap reads only (no process is
 * run): ufw enabled (`ENABLED=yes` in /etc/ufw/ufw.conf) and the iptables flavour it writes (ufw
 * runs /usr/sbin/iptables, which Debian's alternatives point at xtables-nft-multi or
 * xtables-legacy-multi), and firewalld running in this network namespace (its pid file
 * /run/firewalld.pid names a live process called firewalld). `backend: auto` weighs these
 * (backends/weigh.ts); the daemon reads them every pass and chooses again when they change.
 */

export interface ManagerLandscape {
  readonly ufw?: { readonly enabled: boolean; readonly flavour: 'iptables-nft' | 'iptables-legacy'; readonly evidence: string };
  readonly firewalld?: { readonly running: boolean; readonly evidence: string };
}

export interface LandscapeProbe {
  readonly ufw?: UfwPaths;
  /** ufw's iptables (ufw.common.iptables_dir is /usr/sbin). */
  readonly iptables?: string;
  readonly firewalldPid?: string;
  readonly proc?: string;
}

function ufwFlavour(iptables: string): { flavour: 'iptables-nft' | 'iptables-legacy'; target: string } {
  let target = iptables;
  try {
    target = realpathSync(iptables);
  } catch {
    // No iptables at all: ufw cannot load anything; nft is Debian's default.
  }
  return { flavour: /legacy/.test(target) ? 'iptables-legacy' : 'iptables-nft', target };
}

function firewalldRunning(pidFile: string, proc: string): { running: boolean; evidence: string } | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  try {
    const comm = readFileSync(`${proc}/${pid}/comm`, 'utf8').trim();
    const sameNet = readlinkSync(`${proc}/${pid}/ns/net`) === readlinkSync(`${proc}/self/ns/net`);
    const running = Number.isInteger(pid) && pid > 0 && comm.startsWith('firewalld') && sameNet;
    return { running, evidence: running ? `firewalld runs (pid ${pid} from ${pidFile})` : `${pidFile} names pid ${pid}, not a firewalld in this network namespace` };
  } catch {
    return { running: false, evidence: `${pidFile}: pid ${pid} is not running` };
  }
}

/** Reads the landscape; never throws. */
export function readLandscape(probe: LandscapeProbe = {}): ManagerLandscape {
  const paths = probe.ufw ?? UFW_PATHS;
  const snap = readUfwSnapshot(paths);
  const { flavour, target } = ufwFlavour(probe.iptables ?? '/usr/sbin/iptables');
  const fw = firewalldRunning(probe.firewalldPid ?? '/run/firewalld.pid', probe.proc ?? '/proc');
  return {
    ...(snap.installed ? {
      ufw: {
        enabled: snap.enabled,
        flavour,
        evidence: snap.enabled ? `ufw enabled (ENABLED=yes in ${paths.conf}), its rules go to ${flavour} (${probe.iptables ?? '/usr/sbin/iptables'} → ${target})` : `ufw installed but not enabled (${paths.conf})`,
      },
    } : {}),
    ...(fw ? { firewalld: fw } : {}),
  };
}

/** What a change of which the daemon must choose again looks like: the managers' on/off and flavour. */
export function landscapeKey(l: ManagerLandscape): string {
  return JSON.stringify([l.ufw?.enabled ?? null, l.ufw?.flavour ?? null, l.firewalld?.running ?? null]);
}
