import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { concreteConfig, resolveFacts } from '../../src/discovery/facts.js';
import { expandProfile } from '../../src/profiles/expand.js';
import { loadProfile } from '../../src/profiles/load.js';
import { PORTS_PROFILE, portRequirements } from '../../src/snippets/ports.js';
import { portsNote, renderSnippet, snippetJson } from '../../src/snippets/render.js';
import { TARGETS } from '../../src/snippets/types.js';
import { configFrom } from '../helpers/configs.js';
import { compareGolden } from '../helpers/golden.js';

/**
 * Golden files of `tsfw render --for <target>` for every target: the default config (ports: auto
 * resolved without discovery, so the 41641 fallback) and two ports on IPv4 only with the
 * firewalld/azure options. `UPDATE_GOLDEN=1` rewrites them; review the diff.
 */

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'snippets');
function compare(file: string, actual: string): void {
  compareGolden(DIR, file, actual, 'test/unit/snippets-golden.test.ts');
}

const CASES = [
  { name: 'default', yaml: '', options: {} },
  { name: 'two-ports-ip', yaml: 'ports: [41641, 41642]\nfamilies: [ip]\n', options: { zone: 'external', priority: 2000 } },
] as const;

describe.each(CASES)('render --for, $name config', ({ name, yaml, options }) => {
  const config = configFrom(yaml);
  const facts = resolveFacts(config);
  const profile = loadProfile(PORTS_PROFILE);
  const requirements = portRequirements(expandProfile(profile, concreteConfig(config, facts)), profile);

  it.each(TARGETS)('%s', (target) => {
    const snippet = renderSnippet(target, { requirements, families: config.families, portsNote: portsNote(facts.ports), ...options });
    const ext = ['aws', 'gcp', 'azure'].includes(target) ? 'tf' : target === 'iptables' ? 'rules' : target === 'nftables' ? 'nft' : 'sh';
    compare(`${target}-${name}.${ext}`, snippet.text);
    compare(`${target}-${name}.json`, snippetJson(target, requirements, snippet));
  });
});
