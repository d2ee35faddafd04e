/**
 * Typed failures of outside programs. Every nft/iptables stderr is classified here and nowhere
 * else, so the CLI can map kinds to exit codes and the reconciler can decide what to retry.
 */
export type ExecErrorKind =
  /** The binary is not installed (exit 69). */
  | 'not-found'
  /** No CAP_NET_ADMIN, or a read-only netns (exit 77). */
  | 'permission'
  /** The kernel lacks nf_tables / the table type / the match (exit 69). */
  | 'unsupported'
  /** The xtables lock was held (iptables exit 4): try again. */
  | 'busy'
  /** iptables-nft found rules it cannot parse (native nft rules in its tables): never rewrite. */
  | 'incompatible'
  /** The kernel changed between tsfw's read and its write (an object vanished or appeared): retry. */
  | 'raced'
  | 'timeout'
  | 'failed';

export class ExecError extends Error {
  constructor(
    readonly kind: ExecErrorKind,
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`${command}: ${firstLine(stderr) || kind}`, options);
    this.name = 'ExecError';
  }
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0 && !l.startsWith('^')) ?? '';
}

const PATTERNS: ReadonlyArray<readonly [RegExp, ExecErrorKind]> = [
  [/Parsing nftables rule failed|incompatible, use 'nft' tool|table `?\w+'? is incompatible/i, 'incompatible'],
  [/Operation not permitted|Permission denied|you must be root/i, 'permission'],
  [/Protocol not supported|Address family not supported|can't initialize \S+ table|Could not fetch rule set generation id.*(not supported|Invalid argument)|Table does not exist \(do you need to insmod\?\)/i, 'unsupported'],
  [/Another app is currently holding the xtables lock|Resource temporarily unavailable/i, 'busy'],
  [/No such file or directory|File exists|does a matching rule exist|Index of (deletion|insertion) too big|Chain already exists/i, 'raced'],
];

/** Maps a failed command's exit status and stderr to a typed error. */
export function classifyFailure(command: string, exitCode: number | undefined, stderr: string): ExecError {
  const isXtables = /^(ip6?tables)/.test(command);
  if (isXtables && exitCode === 4) return new ExecError('busy', command, exitCode, stderr);
  for (const [pattern, kind] of PATTERNS) {
    if (pattern.test(stderr)) return new ExecError(kind, command, exitCode, stderr);
  }
  return new ExecError('failed', command, exitCode, stderr);
}

/** Whether a failed listing only means the object is not there (an empty kernel, not an error). */
export function isMissingObject(stderr: string): boolean {
  return /No such file or directory/.test(stderr);
}
