// tsfw's objects as comparable text, read inside the namespace the caller runs in (argv prefix
// given): equal text means repaired. nftables: its table from `nft -j list table` without handles
// and counters, chains in name order (a re-created chain is listed last, yet it is the same
// chain); iptables: tsfw's lines of the filter and nat saves.
import { spawnSync } from 'node:child_process';

function out(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return r.status === 0 ? r.stdout : undefined;
}

export function fingerprint(backend, prefix = []) {
  if (backend === 'nftables') {
    const text = out([...prefix, 'nft', '-j', 'list', 'table', 'inet', 'tsfw']);
    if (text === undefined) return '';
    const chains = new Map();
    for (const o of JSON.parse(text).nftables) {
      if (o.chain) chains.set(o.chain.name, { spec: [o.chain.type, o.chain.hook, o.chain.prio, o.chain.policy], rules: [] });
      if (o.rule) chains.get(o.rule.chain)?.rules.push([o.rule.comment, JSON.stringify(o.rule.expr).replace(/"counter":\{[^}]*\}/g, '"counter":{}')]);
    }
    return JSON.stringify([...chains].sort(([a], [b]) => a.localeCompare(b)));
  }
  const tool = backend === 'iptables-nft' ? 'iptables-nft-save' : 'iptables-legacy-save';
  return ['filter', 'nat']
    .map((t) => (out([...prefix, tool, '-t', t]) ?? '').split('\n').filter((l) => /ts-|tsfw:/.test(l)).join('\n'))
    .join('\n');
}
