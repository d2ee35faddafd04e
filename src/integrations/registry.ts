import { readFileSync } from 'node:fs';
import type { CommandRunner } from '../exec/runner.js';
import type { Freshness } from '../reconcile/freshness.js';
import { createDockerIntegration } from './docker/docker.js';
import { createFirewalldIntegration } from './firewalld/integration.js';
import type { Integration } from './types.js';
import { createUfwIntegration } from './ufw/integration.js';

/** A small file's text, or undefined (the Docker integration's /proc/net probe). */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The one place that builds the integrations a pass visits, in MANAGERS order. `iptFilter`: the
 * daemon's nft monitor vouching that Docker's iptables-nft chains did not change (freshness.ts).
 */
export function createIntegrations(runner: CommandRunner, iptFilter?: Freshness): readonly Integration[] {
  return [
    createFirewalldIntegration(runner),
    createUfwIntegration(runner),
    createDockerIntegration(runner, { readText, ...(iptFilter ? { iptFilter } : {}) }),
  ];
}
