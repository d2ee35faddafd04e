/**
 * ufw's own record of its rules: every rule in /etc/ufw/user.rules (IPv4) and user6.rules (IPv6)
 * is preceded by a line `### tuple ### ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] IFACES
 * [comment=HEX]` (ufw 0.36, backend_iptables.py), e.g.
 * `### tuple ### route:allow any any 0.0.0.0/0 any 0.0.0.0/0 in_tailscale0 comment=74736677`.
 * IFACES is `in`/`out`, or `in_IF`, `out_IF`, or both; the comment is the UTF-8 text in hex.
 * Reading these lines tells what ufw is configured with without running ufw (python, its lock).
 * Pure.
 */

/** One rule as its tuple line says, the comment decoded. */
export interface UfwTuple {
  readonly action: string;
  readonly proto: string;
  readonly dport: string;
  readonly dst: string;
  readonly sport: string;
  readonly src: string;
  /** The application names (`-` for none) of an application rule, else absent. */
  readonly apps?: readonly [string, string];
  /** `in`, `out`, `in_IF`, `out_IF` or `in_IF out_IF`. */
  readonly ifaces: string;
  readonly comment: string;
}

const TUPLE = /^### tuple ### (.*)$/;

/** ufw's comment encoding: the UTF-8 bytes in lower-case hex. */
export function hexComment(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

function decodeComment(hex: string): string {
  return /^(?:[0-9a-f]{2})*$/i.test(hex) ? Buffer.from(hex, 'hex').toString('utf8') : hex;
}

/** Every well-formed tuple line of a user*.rules file; others (ufw skips them too) are ignored. */
export function parseUserRules(text: string): UfwTuple[] {
  const out: UfwTuple[] = [];
  for (const line of text.split('\n')) {
    const m = TUPLE.exec(line.trimEnd());
    if (!m) continue;
    const [body, hex] = m[1]!.split(' comment=', 2) as [string, string | undefined];
    const f = body.trim().split(/\s+/);
    // Interfaces take one or two fields at the end (`in_a out_b`).
    const ifaceCount = f.length >= 2 && /^out_/.test(f[f.length - 1]!) && /^in_/.test(f[f.length - 2]!) ? 2 : 1;
    const fixed = f.length - ifaceCount;
    if (fixed !== 6 && fixed !== 8) continue;
    const [action, proto, dport, dst, sport, src] = f as [string, string, string, string, string, string];
    out.push({
      action, proto, dport, dst, sport, src,
      ...(fixed === 8 ? { apps: [f[6]!, f[7]!] as const } : {}),
      ifaces: f.slice(fixed).join(' '),
      comment: hex === undefined ? '' : decodeComment(hex.trim()),
    });
  }
  return out;
}

/** Same rule, whatever its comment (ufw itself matches rules so: `ufw allow` then updates the comment). */
export function sameRule(a: UfwTuple, b: UfwTuple): boolean {
  return a.action === b.action && a.proto === b.proto && a.dport === b.dport && a.dst === b.dst && a.sport === b.sport
    && a.src === b.src && a.ifaces === b.ifaces && (a.apps?.join(' ') ?? '') === (b.apps?.join(' ') ?? '');
}
