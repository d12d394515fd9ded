// Helpers for the importer's tests: real files in temporary directories, ConfigMap-style
// mounts, and certificate/key pairs from the project's own CA code.
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createCertificateAuthority, loadCertificateAuthority } from '../../pki/index.js';

/** A temporary directory, removed by `remove()`. */
export async function tempDir(prefix = 'postern-import-'): Promise<{
  readonly path: string;
  remove(): Promise<void>;
}> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Writes `text` to `root/name`, creating directories on the way. */
export async function put(root: string, name: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, name)), { recursive: true });
  await writeFile(join(root, name), text);
}

/**
 * A mounted ConfigMap as the kubelet writes it: the files live in `..<timestamp>/`, `..data`
 * links to that directory, and each visible name links to `..data/<name>`. `update` swaps
 * the content atomically the same way: a new timestamp directory, a `..data_tmp` link renamed
 * over `..data`, then the old directory removed.
 */
export class ConfigMapMount {
  #version = 0;
  #current: string | undefined;
  #names = new Set<string>();

  constructor(readonly root: string) {}

  /** Creates or replaces the mount's content; visible links are added for new names. */
  async update(files: Record<string, string>): Promise<void> {
    this.#version += 1;
    const dir = `..2026_01_01_00_00_00.${this.#version}`;
    await mkdir(join(this.root, dir));
    for (const [name, text] of Object.entries(files)) {
      await writeFile(join(this.root, dir, name), text);
    }
    await symlink(dir, join(this.root, '..data_tmp'));
    await rename(join(this.root, '..data_tmp'), join(this.root, '..data'));
    for (const name of Object.keys(files)) {
      await symlink(join('..data', name), join(this.root, name)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      });
    }
    for (const name of this.#names) {
      if (!(name in files)) await rm(join(this.root, name), { force: true });
    }
    this.#names = new Set(Object.keys(files));
    if (this.#current !== undefined) {
      await rm(join(this.root, this.#current), { recursive: true, force: true });
    }
    this.#current = dir;
  }
}

/** A certificate and its key (PEM), issued for `dnsName` by a fresh CA. */
export async function certificatePair(dnsName: string): Promise<{
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}> {
  const material = await createCertificateAuthority();
  const ca = await loadCertificateAuthority(material);
  const issued = await ca.issueServerCertificate({ dnsNames: [dnsName] });
  return { certPem: issued.certPem, keyPem: issued.keyPem, caPem: material.certPem };
}

/** The mapping form of a `valueFrom` file reference, for YAML flow style. */
export function fileRef(name: string): string {
  return `{valueFrom: {fileRef: {name: "${name}"}}}`;
}
