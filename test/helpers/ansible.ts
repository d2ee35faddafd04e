import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Netns } from './netns.js';

/**
 * The real `ansible-playbook` (ansible-core from Debian), run with a local connection inside a
 * test namespace, and a reader for its default (human) output: the recap counters and the
 * status of each task, which is what an operator looks at.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ANSIBLE_DIR = fileURLToPath(new URL('../../ansible/', import.meta.url));

/** Finds ansible-playbook; when missing, installs it the project's way (`make apt-deps`) once. */
export async function ensureAnsiblePlaybook(): Promise<{ path: string } | { reason: string }> {
  const which = async () => {
    const r = await execa('sh', ['-c', 'command -v ansible-playbook'], { reject: false });
    return r.exitCode === 0 ? String(r.stdout).trim() : undefined;
  };
  const found = await which();
  if (found) return { path: found };
  const make = await execa('make', ['-C', REPO_ROOT, 'apt-deps'], { reject: false, all: true, timeout: 600_000 });
  const after = await which();
  if (after) return { path: after };
  const tail = String(make.all).trim().split('\n').slice(-1)[0] ?? '';
  return { reason: `ansible-playbook not found after \`make apt-deps\` (exit ${make.exitCode}: ${tail})` };
}

/** The recap line of one host. */
export interface Recap {
  readonly ok: number;
  readonly changed: number;
  readonly unreachable: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface PlaybookRun {
  readonly exitCode: number;
  readonly output: string;
  readonly recap: Recap | undefined;
  /** Task name (without the role prefix) → every status line it printed, in order. */
  readonly tasks: ReadonlyMap<string, readonly string[]>;
}

/** Parses the default callback's output. */
export function parsePlaybookOutput(output: string, host = 'localhost'): Pick<PlaybookRun, 'recap' | 'tasks'> {
  const tasks = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const task = /^(?:TASK|RUNNING HANDLER) \[(?:[^\]:]+ : )?([^\]]+)\]/.exec(line);
    if (task?.[1]) {
      current = tasks.get(task[1]) ?? [];
      tasks.set(task[1], current);
      continue;
    }
    const status = /^(ok|changed|skipping|fatal|failed): \[/.exec(line);
    if (status?.[1] && current) current.push(status[1]);
  }
  const escaped = host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped}\\s+:\\s+ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)\\s+skipped=(\\d+)`, 'm').exec(output);
  const recap = m
    ? { ok: Number(m[1]), changed: Number(m[2]), unreachable: Number(m[3]), failed: Number(m[4]), skipped: Number(m[5]) }
    : undefined;
  return { recap, tasks };
}

/** Names of the tasks that reported `changed` at least once. */
export function changedTasks(run: PlaybookRun): string[] {
  return [...run.tasks].filter(([, statuses]) => statuses.includes('changed')).map(([name]) => name);
}

/**
 * Runs the sample playbook (ansible/site.yml with ansible/inventory.ini) inside `ns`. Ansible's
 * own state (~/.ansible) goes to `ansibleHome`, never the invoking user's home.
 */
export async function runPlaybook(
  ns: Netns,
  opts: { varsFile: string; ansibleHome: string; args?: readonly string[] },
): Promise<PlaybookRun> {
  const r = await execa('ip', [
    'netns', 'exec', ns.name, 'ansible-playbook',
    '-i', `${ANSIBLE_DIR}inventory.ini`, `${ANSIBLE_DIR}site.yml`,
    '-e', `@${opts.varsFile}`, ...(opts.args ?? []),
  ], {
    reject: false,
    all: true,
    timeout: 180_000,
    // A scratch working directory, so no stray ./ansible.cfg changes the run.
    cwd: opts.ansibleHome,
    env: {
      // ansible-core refuses to run without a UTF-8 locale.
      LC_ALL: 'C.UTF-8',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_HOME: opts.ansibleHome,
      ANSIBLE_LOCAL_TEMP: `${opts.ansibleHome}/tmp`,
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      TSFW_CONFIG: '',
      TSFW_MODE: '',
      TSFW_BACKEND: '',
      // The role's tsfw commands inherit it: their lock, marker and memos stay out of the host's /run/tsfw.
      TSFW_RUN_DIR: `${opts.ansibleHome}/run`,
    },
  });
  const output = String(r.all);
  return { exitCode: r.exitCode ?? 1, output, ...parsePlaybookOutput(output) };
}
