import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/ansible.js';

/**
 * The container image, as `make image-test` proves it (scripts/test-image.sh says how): built
 * from the Dockerfile with buildah against the base image in local storage (`make test-roots`
 * provides it), at most 60 MB over that base, applying the same table as the checkout inside a
 * namespace, dropping a spoofed CGNAT packet there, repairing a flushed ruleset from its daemon,
 * and a HEALTHCHECK that turns unhealthy when the daemon hangs. Run here so the suite's count
 * includes it.
 */
describe('container image (scripts/test-image.sh)', () => {
  it('builds, stays within 60 MB over its base, applies the ruleset in a namespace and drops a spoofed CGNAT packet', async () => {
    const run = await execa('scripts/test-image.sh', [], { cwd: REPO_ROOT, all: true, reject: false, timeout: 840_000 });
    const out = String(run.all);
    for (const line of out.split('\n').filter((l) => /^(image .* adds|ok:|note:|PASS:|FAIL:)/.test(l))) console.log(line);
    expect(run.exitCode, out.split('\n').slice(-40).join('\n')).toBe(0);
    expect(out).toMatch(/^PASS: image /m);
    const added = Number(/^image \S+ adds (\d+) MB/m.exec(out)?.[1]);
    expect(added).toBeLessThanOrEqual(60);
  }, 900_000);
});
