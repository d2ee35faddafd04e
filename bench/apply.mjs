// Apply cost: tsfw's one-transaction apply against the per-rule approach (one process per rule
// and per existence check, as go-iptables-based tools work) for the same ruleset, from an empty
// namespace, on nftables and iptables-nft.
//   node bench/apply.mjs [--runs N] [--backends nftables,iptables-nft]     (make bench-apply)
// Per backend, three ways of writing the default profile in mode on:
//   tsfw apply       the CLI as an operator runs it (node start-up, config, plan, one write, read back)
//   transaction      only the write tsfw makes: nft -j -f DOC, or one iptables-restore per table
//   per-rule         check + write per table, chain and rule, each its own process
//   node -e 0        the peer: a bare node start-up, timed in the same interleaved runs
// All three ways end in the same kernel state: checked once per backend before timing.
// Targets (nftables, default profile): tsfw apply ≤ 1.8× node -e 0 and faster than per-rule.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine, configFile, createNetns, deleteNetns, machine, measureIn, ms, ratio, run, saveResult, stats, tempDir, TSFW_BIN, tsfw, verdict } from './lib/common.mjs';
import { iptablesPerRuleSteps, nftPerRuleSteps, restoreDocuments } from './lib/per-rule.mjs';

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const runs = Number(arg('--runs', '20'));
const backends = arg('--backends', 'nftables,iptables-nft').split(',');
/** Rulesets: the default profile, and a large one (64 ports, 64 own addresses, 64 exemptions: one rule each). */
const list = (f) => Array.from({ length: 64 }, (_, i) => f(i));
const RULESETS = [
  { name: 'default profile', extra: {} },
  {
    name: 'large (64 ports, 64 addresses, 64 exemptions)',
    extra: { ports: list((i) => 40000 + i), addresses: list((i) => `100.100.1.${i + 1}/32`), cgnat: { exempt: list((i) => `100.100.2.${i + 1}/32`) } },
  },
];

const FLUSH = { argv: ['nft', 'flush', 'ruleset'] };
const FORGET = { argv: ['rm', '-f', join(process.env.TSFW_RUN_DIR, 'config.memo.json'), join(process.env.TSFW_RUN_DIR, 'ruleset.memo.json')] };

/** Builds the three scenarios of one backend from tsfw's own renderings. */
function build(backend, ns, config, dir) {
  const text = tsfw(ns, ['render', '--backend', backend, '-c', config]).stdout;
  let transaction;
  let perRule;
  if (backend === 'nftables') {
    const doc = join(dir, 'nft.json');
    writeFileSync(doc, tsfw(ns, ['render', '--backend', backend, '--json', '-c', config]).stdout);
    transaction = [{ argv: ['nft', '-j', '-f', doc] }];
    perRule = nftPerRuleSteps(text);
  } else {
    transaction = restoreDocuments(text).map(([bin, body], i) => {
      const file = join(dir, `restore-${i}.txt`);
      writeFileSync(file, body);
      return { argv: [bin, '--noflush', '-w'], stdinFile: file };
    });
    perRule = iptablesPerRuleSteps(text);
  }
  return [
    { name: 'tsfw apply', setup: [FLUSH], steps: [{ argv: ['node', TSFW_BIN, 'apply', '-c', config, '--no-save'] }] },
    // The same with the run directory's memos removed (src/fsx/memo.ts): the first apply after a
    // boot (/run is empty) or after an edit of the config, which parses and validates everything.
    { name: 'tsfw apply, no memo', setup: [FLUSH, FORGET], steps: [{ argv: ['node', TSFW_BIN, 'apply', '-c', config, '--no-save'] }] },
    { name: 'transaction', setup: [FLUSH], steps: transaction },
    { name: 'per-rule', setup: [FLUSH], steps: perRule },
  ];
}

const NODE = { name: 'node -e 0', steps: [{ argv: ['node', '-e', '0'] }] };

/** Each way must leave exactly what tsfw wants: `reconcile --check` then reports no change. */
function verifySameState(ns, config, scenarios) {
  for (const scenario of scenarios) {
    run(ns, FLUSH.argv);
    for (const step of scenario.steps) {
      const argv = step.argv[0] === 'node' ? [process.execPath, ...step.argv.slice(1)] : step.argv;
      run(ns, argv, { allowFail: step.allowFail, input: step.stdinFile ? readFileSync(step.stdinFile, 'utf8') : undefined });
    }
    const check = JSON.parse(tsfw(ns, ['reconcile', '--check', '--json', '-c', config]).stdout);
    if (check.changed) {
      throw new Error(`${scenario.name} did not produce tsfw's ruleset: ${check.drift.map((d) => d.detail).join('; ')}`);
    }
  }
}

const results = [];
for (const backend of backends) for (const ruleset of RULESETS) {
  const ns = createNetns('tsfwb-apply');
  const config = configFile({ backend, ...ruleset.extra });
  const scenarios = build(backend, ns, config, tempDir());
  verifySameState(ns, config, scenarios);
  console.log(`\napply on ${backend}, ${ruleset.name}: ${runs} interleaved runs each (+2 warm-up), each from an empty ruleset`);
  const raw = measureIn(ns, { runs, warmup: 2, scenarios: [...scenarios, NODE] });
  const rows = [...scenarios, NODE].map((s) => ({
    name: s.name,
    processes: s.steps.length,
    wall: stats(raw[s.name].wall),
    cpu: stats(raw[s.name].cpu),
  }));
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  console.log('  way                  processes   median wall   p90 wall   mean CPU');
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(20)} ${String(r.processes).padStart(9)} ${ms(r.wall.median).padStart(13)} ${ms(r.wall.p90).padStart(10)} ${ms(r.cpu.mean).padStart(10)}`);
  }
  const perRuleVsApply = ratio(by['per-rule'].wall.median, by['tsfw apply'].wall.median);
  const perRuleVsTx = ratio(by['per-rule'].wall.median, by.transaction.wall.median);
  const applyVsNode = ratio(by['tsfw apply'].wall.median, by['node -e 0'].wall.median);
  const coldVsNode = ratio(by['tsfw apply, no memo'].wall.median, by['node -e 0'].wall.median);
  console.log(`  per-rule takes ${perRuleVsApply}× the whole tsfw apply and ${perRuleVsTx}× tsfw's transaction alone; tsfw apply takes ${applyVsNode}× node -e 0 (${coldVsNode}× without its memos)`);
  const targets = backend === 'nftables' && ruleset === RULESETS[0]
    ? [
      verdict('tsfw apply ÷ node -e 0', applyVsNode, 1.8),
      verdict('tsfw apply without memos ÷ node -e 0', coldVsNode, 1.8),
      verdict('tsfw apply ÷ per-rule', ratio(by['tsfw apply'].wall.median, by['per-rule'].wall.median), 0.99),
    ]
    : [];
  results.push({ backend, ruleset: ruleset.name, rows, perRuleVsApply, perRuleVsTransaction: perRuleVsTx, applyVsNode, coldVsNode, targets });
  deleteNetns(ns);
}
saveResult('apply', { bench: 'apply', command: commandLine(), machine: machine(), runs, results });
