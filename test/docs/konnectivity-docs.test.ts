import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateKubeObject, type KubeObject } from '../deploy/kube-schema.js';
import { postureProblems } from '../deploy/security-posture.js';
import { repoRoot } from '../support/repo-root.js';

/** The YAML blocks of a doc that hold a Kubernetes object of `kind`. */
function objectsOf(doc: string, kind: string): KubeObject[] {
  const text = readFileSync(join(repoRoot(), 'docs', doc), 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => parse(m[1] ?? '') as unknown)
    .filter((o): o is KubeObject => (o as { kind?: string } | null)?.kind === kind);
}

test('the node-agent DaemonSet in konnectivity.md is valid and keeps the shipped security posture', async () => {
  const [daemonSet] = objectsOf('konnectivity.md', 'DaemonSet');
  assert.ok(daemonSet, 'konnectivity.md shows a DaemonSet');
  assert.deepEqual(await validateKubeObject(daemonSet), []);
  // The docs' image is a placeholder; the posture check wants a pinned tag, which it has.
  assert.deepEqual(
    postureProblems(daemonSet, '0.1.0').filter((p) => !p.includes('image')),
    [],
  );
});
