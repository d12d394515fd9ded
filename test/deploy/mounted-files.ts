import assert from 'node:assert/strict';
import { posix } from 'node:path';
import type { KubeObject } from './kube-schema.js';
import { podSpecOf, type Container, type PodSpec } from './kustomize-render.js';

/** Where a file a container reads comes from: a key of a Secret or ConfigMap, or a host path. */
export type FileSource =
  | { kind: 'secret'; name: string; key: string; mode: number | undefined; readOnly: boolean }
  | { kind: 'configMap'; name: string; key: string; mode: number | undefined; readOnly: boolean }
  | { kind: 'hostPath'; path: string; type: string | undefined; readOnly: boolean };

interface Volume {
  name: string;
  secret?: { secretName: string; defaultMode?: number; items?: { key: string; path: string }[] };
  configMap?: { name: string; defaultMode?: number; items?: { key: string; path: string }[] };
  hostPath?: { path: string; type?: string };
}

/**
 * Follows `path` in `container` to the volume mounted above it and, for Secret and ConfigMap
 * volumes, to the item that puts a key at that path. Fails the test when nothing is mounted there.
 */
export function fileSource(pod: PodSpec, container: Container, path: string): FileSource {
  const mount = (container.volumeMounts ?? [])
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  assert.ok(mount, `${container.name}: nothing is mounted above ${path}`);
  const volume = (pod.volumes as Volume[] | undefined)?.find((v) => v.name === mount.name);
  assert.ok(volume, `${container.name}: no volume ${mount.name}`);
  const readOnly = mount.readOnly === true;
  const inside = posix.relative(mount.mountPath, path);
  if (volume.hostPath) {
    return { kind: 'hostPath', path: volume.hostPath.path, type: volume.hostPath.type, readOnly };
  }
  const keyed = volume.secret
    ? { kind: 'secret' as const, name: volume.secret.secretName, v: volume.secret }
    : volume.configMap
      ? { kind: 'configMap' as const, name: volume.configMap.name, v: volume.configMap }
      : assert.fail(`${container.name}: volume ${mount.name} is neither a Secret nor a ConfigMap`);
  // Without items every key is a file of its own name.
  const item = keyed.v.items
    ? keyed.v.items.find((i) => i.path === inside)
    : { key: inside, path: inside };
  assert.ok(item, `${container.name}: volume ${mount.name} puts no key at ${inside}`);
  return { kind: keyed.kind, name: keyed.name, key: item.key, mode: keyed.v.defaultMode, readOnly };
}

/** The value of a plain env variable (no valueFrom), or undefined. */
export function envValue(c: Container, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

/** `name=secret` for every env variable of every container and init container read from a Secret. */
export function secretEnvVars(list: KubeObject[]): string[] {
  return list.flatMap((obj) => {
    const pod = podSpecOf(obj);
    if (!pod) return [];
    return [...pod.containers, ...(pod.initContainers ?? [])].flatMap((c) =>
      (c.env ?? [])
        .filter((e) => e.valueFrom?.secretKeyRef)
        .map((e) => `${c.name}: ${e.name}=${e.valueFrom?.secretKeyRef?.name ?? '?'}`),
    );
  });
}

/**
 * Asserts that `envName` names a file the container reads from key `key` of Secret `secret`,
 * read-only, readable by the pod's group only (0440 or 0400) while the pod runs as a non-root
 * user whose group is the volume's fsGroup. Returns the path.
 */
export function assertSecretFile(
  pod: PodSpec,
  c: Container,
  envName: string,
  secret: { name: string; key: string },
): string {
  const path = envValue(c, envName) ?? assert.fail(`${envName} is set`);
  assert.ok(path.startsWith('/'), `${envName} names an absolute path (got ${path})`);
  const source = fileSource(pod, c, path);
  assert.deepEqual(
    {
      kind: source.kind,
      name: 'name' in source ? source.name : '',
      key: 'key' in source ? source.key : '',
    },
    { kind: 'secret', ...secret },
    `${envName} reads ${secret.name}/${secret.key}`,
  );
  assert.ok(source.readOnly, `${envName}: mounted read-only`);
  assert.ok(
    source.kind === 'secret' && (source.mode === 0o440 || source.mode === 0o400),
    `${envName}: defaultMode 0440 or 0400 (got ${source.kind === 'secret' ? source.mode : '-'})`,
  );
  const sc = pod.securityContext as { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  assert.ok(sc.runAsUser !== undefined && sc.runAsUser !== 0, 'runs as a non-root user');
  assert.equal(sc.fsGroup, sc.runAsGroup, 'the volume group is the process group: it may read');
  return path;
}
