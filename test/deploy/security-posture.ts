import { imageReference } from './dockerfile-parser.js';
import type { KubeObject } from './kube-schema.js';
import { podSpecOf, type Container } from './kustomize-render.js';

/**
 * The security posture every Postern workload must keep: non-root, read-only root file system,
 * no privilege escalation, every capability dropped, RuntimeDefault seccomp, no host namespaces
 * or host paths, no Service link variables, unprivileged ports, and images pinned to `version` (never `latest`).
 * Returns the problems; other kinds have none.
 */
export function postureProblems(obj: KubeObject, version: string): string[] {
  const pod = podSpecOf(obj);
  if (!pod) return [];
  const where = `${obj.kind}/${(obj.metadata as { name?: string } | undefined)?.name ?? '?'}`;
  const problems: string[] = [];
  const fail = (what: string): void => void problems.push(`${where}: ${what}`);
  if (pod.securityContext?.runAsNonRoot !== true) fail('pod runAsNonRoot is not true');
  if (pod.securityContext?.runAsUser === 0) fail('pod runs as UID 0');
  if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') {
    fail('pod seccompProfile is not RuntimeDefault');
  }
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) fail('pod shares a host namespace');
  // Service link variables would land in an environment Postern reads POSTERN_* settings from.
  if (pod.enableServiceLinks !== false) fail('pod enableServiceLinks is not false');
  for (const v of pod.volumes ?? []) if (v.hostPath) fail(`volume ${v.name} is a hostPath`);
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    for (const p of containerProblems(c, version)) fail(`container ${c.name}: ${p}`);
  }
  return problems;
}

function containerProblems(c: Container, version: string): string[] {
  const problems: string[] = [];
  const sc = c.securityContext ?? {};
  if (sc.runAsNonRoot !== true) problems.push('runAsNonRoot is not true');
  if (sc.runAsUser === 0) problems.push('runs as UID 0');
  if (sc.privileged === true) problems.push('is privileged');
  if (sc.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation is not false');
  if (sc.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem is not true');
  if (!sc.capabilities?.drop?.includes('ALL')) problems.push('capabilities do not drop ALL');
  if ((sc.capabilities?.add ?? []).length > 0) problems.push('adds capabilities');
  if (sc.seccompProfile && sc.seccompProfile.type !== 'RuntimeDefault') {
    problems.push('seccompProfile is not RuntimeDefault');
  }
  for (const p of c.ports ?? []) {
    if (p.containerPort < 1024) problems.push(`port ${p.containerPort} is privileged`);
  }
  const ref = imageReference(c.image ?? '');
  if (ref.tag === undefined && ref.digest === undefined) problems.push('image has no tag');
  else if (ref.tag === 'latest') problems.push('image uses latest');
  else if (ref.digest === undefined && ref.tag !== version) {
    problems.push(`image tag ${ref.tag} is not the package version ${version}`);
  }
  return problems;
}
