import { existsSync } from 'node:fs';
import { readBoundedFile } from '../../fsx/read-bounded.js';
import { parseUserRules } from './tuples.js';
import type { UfwSnapshot } from './plan.js';

/**
 * ufw's state from its own files, without running ufw: /etc/ufw/ufw.conf (`ENABLED=yes` is what
 * ufw itself calls enabled, `ufw enable`/`disable` rewrite it), /etc/default/ufw (`IPV6=yes`:
 * every rule also goes to user6.rules) and the tuple lines of /etc/ufw/user.rules and
 * user6.rules. Four small file reads: a converged pass costs no ufw process at all.
 */

export interface UfwPaths {
  readonly binary: string;
  /** The iptables ufw runs (ufw.common.iptables_dir is /usr/sbin). */
  readonly iptables: string;
  readonly conf: string;
  readonly defaults: string;
  readonly rules4: string;
  readonly rules6: string;
}

/** Debian's ufw 0.36. */
export const UFW_PATHS: UfwPaths = {
  binary: '/usr/sbin/ufw',
  iptables: '/usr/sbin/iptables',
  conf: '/etc/ufw/ufw.conf',
  defaults: '/etc/default/ufw',
  rules4: '/etc/ufw/user.rules',
  rules6: '/etc/ufw/user6.rules',
};

const LIMIT = 4 * 1024 * 1024;

function readText(path: string): string | undefined {
  try {
    return readBoundedFile(path, LIMIT).toString('utf8');
  } catch {
    return undefined;
  }
}

/** A shell-style `KEY=value` setting (quotes stripped, lower-cased), as ufw reads them. */
export function setting(text: string | undefined, key: string): string | undefined {
  const line = text?.split('\n').map((l) => l.trim()).reverse().find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1).replace(/^["']|["']$/g, '').toLowerCase();
}

/** Reads the snapshot; a missing binary or ufw.conf means ufw is not installed. */
export function readUfwSnapshot(paths: UfwPaths = UFW_PATHS, exists: (p: string) => boolean = existsSync): UfwSnapshot {
  const conf = exists(paths.binary) ? readText(paths.conf) : undefined;
  if (conf === undefined) return { installed: false, enabled: false, ipv6: false, v4: [], v6: [] };
  const defaults = readText(paths.defaults);
  const ipv6 = setting(defaults, 'IPV6') === 'yes';
  const inputPolicy = setting(defaults, 'DEFAULT_INPUT_POLICY');
  const forwardPolicy = setting(defaults, 'DEFAULT_FORWARD_POLICY');
  return {
    installed: true,
    enabled: setting(conf, 'ENABLED') === 'yes',
    ipv6,
    ...(inputPolicy ? { inputPolicy } : {}),
    ...(forwardPolicy ? { forwardPolicy } : {}),
    v4: parseUserRules(readText(paths.rules4) ?? ''),
    v6: ipv6 ? parseUserRules(readText(paths.rules6) ?? '') : [],
  };
}
