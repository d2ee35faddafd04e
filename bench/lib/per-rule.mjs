// The per-rule way of writing a ruleset, as go-iptables-based tools do it: one process per
// existence check and one per write, for every table, chain and rule. Generated from tsfw's own
// renderings, so both sides write the very same ruleset.

/** Splits an iptables-save rule line into argv, honouring double quotes (as a shell would). */
export function splitArgs(line) {
  const out = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (const ch of line) {
    if (ch === '"') {
      quoted = !quoted;
      started = true;
    } else if (ch === ' ' && !quoted) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) out.push(current);
  return out;
}

/**
 * From `tsfw render --backend nftables` text: for the table, each chain and each rule, a check
 * (`nft list ...`, allowed to fail) followed by the `nft add ...` that creates it.
 */
export function nftPerRuleSteps(text) {
  const steps = [];
  let table;
  let chain;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m;
    if ((m = /^table (\S+) (\S+) \{$/.exec(line))) {
      table = [m[1], m[2]];
      steps.push({ argv: ['nft', 'list', 'table', ...table], allowFail: true }, { argv: ['nft', 'add', 'table', ...table] });
    } else if ((m = /^chain (\S+) \{$/.exec(line))) {
      chain = m[1];
      steps.push({ argv: ['nft', 'list', 'chain', ...table, chain], allowFail: true }, { argv: ['nft', 'add', 'chain', ...table, chain] });
    } else if (line.startsWith('type ')) {
      // The base-chain registration belongs to the chain just created: re-issue it with the spec.
      steps.pop();
      steps.push({ argv: ['nft', 'add', 'chain', ...table, chain, `{ ${line} }`] });
    } else if (line && line !== '}' && chain) {
      steps.push(
        { argv: ['nft', '-a', 'list', 'chain', ...table, chain], allowFail: true },
        { argv: ['nft', `add rule ${table.join(' ')} ${chain} ${line}`] },
      );
    }
  }
  return steps;
}

/**
 * From `tsfw render --backend iptables-*` (iptables-restore input per family and table): chain
 * creation as `-S chain` + `-N chain`, each rule as `-C` + `-A` (or `-I`), all with `-w` as
 * go-iptables passes it.
 */
export function iptablesPerRuleSteps(text) {
  const steps = [];
  let bin;
  let table;
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^# (\S+)-restore/.exec(line))) bin = m[1];
    else if (line.startsWith('*')) table = line.slice(1);
    else if ((m = /^:(\S+) - /.exec(line))) {
      steps.push({ argv: [bin, '-w', '-t', table, '-S', m[1]], allowFail: true }, { argv: [bin, '-w', '-t', table, '-N', m[1]] });
    } else if (line.startsWith('-A ') || line.startsWith('-I ')) {
      const args = splitArgs(line);
      const [op, chainName] = args;
      const spec = op === '-I' && /^\d+$/.test(args[2]) ? args.slice(3) : args.slice(2);
      steps.push({ argv: [bin, '-w', '-t', table, '-C', chainName, ...spec], allowFail: true }, { argv: [bin, '-w', '-t', table, ...args] });
    }
  }
  return steps;
}

/** iptables-restore input split into one document per `# BIN --noflush` header: [bin, text]. */
export function restoreDocuments(text) {
  const docs = [];
  for (const line of text.split('\n')) {
    const m = /^# (\S+-restore) --noflush$/.exec(line);
    if (m) docs.push([m[1], '']);
    else if (docs.length > 0) docs.at(-1)[1] += `${line}\n`;
  }
  return docs;
}
