// The timing loop, run inside a benchmark's namespace: node bench/lib/measure.mjs SPEC.json
//
// SPEC: { runs, warmup, scenarios: [{ name, setup?: Step[], steps: Step[] }] }
// Step: { argv: [...], stdinFile?, allowFail?, env? }  ("node" as argv[0] means this very node)
//
// Scenarios are interleaved (a b c a b c ...) so a busy neighbour slows them alike. Per run, the
// setup steps run untimed, then the steps run one after another, each as its own process, and the
// wall time of all of them is one sample. CPU time (user + system of the finished children, from
// /proc/self/stat, 10 ms ticks) is recorded beside it. A step failing is an error, never a sample.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const TICK_MS = 10;

function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 0 is state; cutime and cstime are fields 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

function runStep(step) {
  const argv = step.argv[0] === 'node' ? [process.execPath, ...step.argv.slice(1)] : step.argv;
  const fd = step.stdinFile ? openSync(step.stdinFile, 'r') : undefined;
  try {
    const r = spawnSync(argv[0], argv.slice(1), {
      stdio: [fd ?? 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', ...step.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0 && !step.allowFail) {
      throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n')[0]}`);
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const samples = Object.fromEntries(spec.scenarios.map((s) => [s.name, { wall: [], cpu: [] }]));
for (let i = 0; i < spec.warmup + spec.runs; i++) {
  for (const scenario of spec.scenarios) {
    for (const step of scenario.setup ?? []) runStep(step);
    const cpu0 = childCpuMs();
    const t0 = performance.now();
    for (const step of scenario.steps) runStep(step);
    const wall = performance.now() - t0;
    const cpu = childCpuMs() - cpu0;
    if (i >= spec.warmup) {
      samples[scenario.name].wall.push(wall);
      samples[scenario.name].cpu.push(cpu);
    }
  }
}
process.stdout.write(`${JSON.stringify(samples)}\n`);
