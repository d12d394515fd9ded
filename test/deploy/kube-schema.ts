import ts from 'typescript';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root.js';

/** A Kubernetes object as rendered: apiVersion, kind, and whatever else it has. */
export type KubeObject = { apiVersion: string; kind: string } & Record<string, unknown>;

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/**
 * Checks one object against the Kubernetes OpenAPI schema shipped by `kubernetes-models`:
 * types, enums, required fields (its precompiled ajv validators), and unknown fields, which those
 * validators let through, by walking the object along the package's generated TypeScript types.
 * Returns the problems, empty when the object is valid.
 */
export async function validateKubeObject(obj: KubeObject): Promise<string[]> {
  const where = `${obj.kind}/${nameOf(obj)}`;
  const specifier = `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch {
    return [`${where}: no schema for ${obj.apiVersion} ${obj.kind}`];
  }
  const Class = mod[obj.kind] as ModelClass;
  const problems: string[] = [];
  try {
    new Class(obj).validate();
  } catch (err) {
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!errors) throw err;
    for (const e of errors) problems.push(`${where}: ${e.instancePath || '/'} ${e.message ?? ''}`);
  }
  for (const p of unknownFields(obj, specifier)) problems.push(`${where}: ${p}`);
  return problems;
}

function nameOf(obj: KubeObject): string {
  const meta = obj.metadata as { name?: string } | undefined;
  return meta?.name ?? '?';
}

// Parsing the libraries' declarations is the slow part (about a second): done once per kind.
const VIRTUAL = 'postern-kube-schema-probe.mts';
const rootTypes = new Map<string, { checker: ts.TypeChecker; type: ts.Type }>();

function rootType(specifier: string, kind: string): { checker: ts.TypeChecker; type: ts.Type } {
  const cached = rootTypes.get(specifier);
  if (cached) return cached;
  const { checker, file } = program(`import type { I${kind} } from '${specifier}';\n`);
  const statement = file.statements[0];
  if (!statement || !ts.isImportDeclaration(statement)) throw new Error('probe file is malformed');
  const named = statement.importClause?.namedBindings;
  if (!named || !ts.isNamedImports(named)) throw new Error('probe file is malformed');
  const symbol = checker.getSymbolAtLocation(named.elements[0]!.name);
  if (!symbol) throw new Error(`no type I${kind} in ${specifier}`);
  const type = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(symbol));
  if (type.flags & ts.TypeFlags.Any) throw new Error(`I${kind} in ${specifier} did not resolve`);
  const entry = { checker, type };
  rootTypes.set(specifier, entry);
  return entry;
}

// Each kind gets its own tiny program; parsed declaration files are shared between them.
const sourceCache = new Map<string, ts.SourceFile>();
function program(probe: string): { checker: ts.TypeChecker; file: ts.SourceFile } {
  const probePath = join(repoRoot(), VIRTUAL);
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError) => {
    if (fileName === probePath) return ts.createSourceFile(fileName, probe, languageVersion, true);
    const hit = sourceCache.get(fileName);
    if (hit) return hit;
    const sf = getSourceFile(fileName, languageVersion, onError);
    if (sf) sourceCache.set(fileName, sf);
    return sf;
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => f === probePath || fileExists(f);
  const prog = ts.createProgram([probePath], options, host);
  return { checker: prog.getTypeChecker(), file: prog.getSourceFile(probePath)! };
}

function unknownFields(obj: KubeObject, specifier: string): string[] {
  const { checker, type } = rootType(specifier, obj.kind);
  const problems: string[] = [];
  walk(checker, obj, type, '', problems);
  return problems;
}

function walk(c: ts.TypeChecker, value: unknown, type: ts.Type, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return; // scalars: the ajv validator's job
  const t = c.getNonNullableType(type);
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  if (Array.isArray(value)) {
    const element = c.getIndexTypeOfType(t, ts.IndexKind.Number);
    if (element) value.forEach((v, i) => walk(c, v, element, `${path}/${i}`, out));
    return;
  }
  const index = c.getIndexTypeOfType(t, ts.IndexKind.String);
  for (const [key, v] of Object.entries(value)) {
    const prop = c.getPropertyOfType(t, key);
    if (prop) walk(c, v, c.getTypeOfSymbol(prop), `${path}/${key}`, out);
    else if (index) walk(c, v, index, `${path}/${key}`, out);
    else out.push(`${path}/${key} is not a field of the schema`);
  }
}
