import { readFile } from 'node:fs/promises';
import { CoreErrors } from '../../core/index.js';
import { cliErrors } from '../errors.js';

/**
 * Reads a credential from a file (a mounted Kubernetes Secret, say): its content without the
 * surrounding white space, so the newline an editor or `echo` adds is not part of the value.
 * An unreadable or empty file is POSTERN_ERR_SECRET_FILE naming the flag.
 */
export async function readSecretFile(path: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw cliErrors.secretFile(flag, path, `cannot be read (${code ?? String(err)})`, err);
  }
  const value = text.trim();
  if (value === '') throw cliErrors.secretFile(flag, path, 'the file is empty');
  return value;
}

/** A credential that may be given as a value or as a file, and how each is named. */
export interface SecretSource {
  /** The value given directly (flag or environment); empty counts as not given. */
  readonly value?: string | undefined;
  /** The file given instead; empty counts as not given. */
  readonly file?: string | undefined;
  /** How the direct form is named in errors, e.g. `--store (POSTERN_STORE)`. */
  readonly valueName: string;
  /** How the file form is named in errors, e.g. `--store-file`. */
  readonly fileName: string;
}

/**
 * The credential from exactly one of its two forms: the value as given, or the file's trimmed
 * content; undefined when neither is given. Both at once is POSTERN_ERR_INVALID_ARGUMENT, so
 * that a forgotten variable never silently wins over the mounted file (or the other way round).
 */
export async function secretFromValueOrFile(source: SecretSource): Promise<string | undefined> {
  const value = source.value === '' ? undefined : source.value;
  const file = source.file === '' ? undefined : source.file;
  if (value !== undefined && file !== undefined) {
    throw CoreErrors.invalidArgument(
      source.fileName,
      `it is given together with ${source.valueName}; give only one of them`,
    );
  }
  if (file !== undefined) return readSecretFile(file, source.fileName);
  return value;
}
