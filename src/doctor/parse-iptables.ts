/** One table of an `iptables-save` dump: chain policies (built-ins) and rule lines. */
export interface IptablesTable {
  readonly name: string;
  /** Built-in chains have a policy (ACCEPT / DROP); user chains have `-`. */
  readonly chains: ReadonlyMap<string, string>;
  /** `-A CHAIN ...` lines, as printed. */
  readonly rules: readonly string[];
}

export interface IptablesDump {
  readonly family: 'ip' | 'ip6';
  readonly tables: readonly IptablesTable[];
}

/** Parses iptables-save / ip6tables-save text. Unknown lines are ignored. */
export function parseIptablesSave(text: string, family: 'ip' | 'ip6'): IptablesDump {
  const tables: IptablesTable[] = [];
  let current: { name: string; chains: Map<string, string>; rules: string[] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      current = { name: line.slice(1), chains: new Map(), rules: [] };
      tables.push(current);
    } else if (line.startsWith(':') && current) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (name) current.chains.set(name, policy ?? '-');
    } else if (line.startsWith('-A ') && current) {
      current.rules.push(line);
    }
  }
  return { family, tables };
}

/** The chain a `-A CHAIN ...` line appends to. */
export function ruleChain(line: string): string {
  return line.split(/\s+/)[1] ?? '';
}
