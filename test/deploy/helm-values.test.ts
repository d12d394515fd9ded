import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/repo-root.js';
import { chartDir } from './helm-render.js';
import {
  helmValuesSchema,
  helmValuesSchemaText,
  VALUES_SCHEMA_PATH,
} from './helm-values-schema.js';

// The chart checks that need no helm binary: they always run.

const VERSION = (
  JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
).version;
type Values = Record<string, unknown>;
const defaults = parseYaml(readFileSync(join(chartDir(), 'values.yaml'), 'utf8')) as Values;
const chart = parseYaml(readFileSync(join(chartDir(), 'Chart.yaml'), 'utf8')) as Record<
  string,
  string
>;

function validator() {
  // Formats (cidr, uri) are the configuration parser's job; the schema checks the shape.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });
  return ajv.compile(helmValuesSchema());
}

function merged(overrides: Values): Values {
  const out = structuredClone(defaults);
  const merge = (a: Values, b: Values): void => {
    for (const [k, v] of Object.entries(b)) {
      const cur = a[k];
      if (isPlain(v) && isPlain(cur)) merge(cur, v);
      else a[k] = v;
    }
  };
  merge(out, overrides);
  return out;
}

function isPlain(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

test('values.schema.json is the one generated from the chart and configuration schemas', async () => {
  const committed = readFileSync(join(repoRoot(), VALUES_SCHEMA_PATH), 'utf8');
  assert.equal(
    committed,
    await helmValuesSchemaText(),
    'run: npm run build && node scripts/helm-values-schema.mjs',
  );
  const schema = JSON.parse(committed) as { definitions: Record<string, unknown> };
  assert.ok(schema.definitions['configDocument'], 'the configuration schema is embedded');
});

test('values.yaml validates against the schema, and the schema rejects bad values', () => {
  const validate = validator();
  assert.equal(validate(defaults), true, JSON.stringify(validate.errors));
  const bad: [Values, RegExp][] = [
    [{ image: { tag: 'latest' } }, /tag/],
    [{ edge: { replica: 2 } }, /additional/],
    [{ edge: { service: { type: 'ClusterIP' } } }, /enum|allowed/],
    [{ connector: { multiConnector: { enabled: true, groups: [{ provisionKey: 'k' }] } } }, /name/],
    [{ connector: { autoscaling: { targetCPUUtilizationPercentage: 180 } } }, /100/],
    // An inline document is checked against the configuration schema itself.
    [
      { edge: { config: { documents: { 'a.yaml': { pools: [{ name: 'p', nodez: [] }] } } } } },
      /nodez|additional/,
    ],
    [{ edge: { config: { documents: { 'no-extension': {} } } } }, /property name|pattern/],
    // Item paths stay under the import root.
    [
      { edge: { config: { secrets: [{ name: 's', items: [{ key: 'k', path: 'a/../x' }] }] } } },
      /not/,
    ],
    [
      { edge: { config: { secrets: [{ name: 's', items: [{ key: 'k', path: '/x' }] }] } } },
      /pattern/,
    ],
  ];
  for (const [override, expected] of bad) {
    assert.equal(validate(merged(override)), false, JSON.stringify(override));
    assert.match(JSON.stringify(validate.errors), expected, JSON.stringify(override));
  }
  const good = merged({
    edge: {
      config: {
        documents: {
          'apps.yaml': {
            version: 1,
            pools: [{ name: 'web', via: 'site-a', nodes: [{ address: '10.0.0.5:8080' }] }],
          },
        },
      },
    },
  });
  assert.equal(validate(good), true, JSON.stringify(validate.errors));
});

test("every pattern in values.schema.json is one Helm's Go (RE2) regexp engine accepts", () => {
  // Helm checks values with Go's regexp: lookaround and backreferences, which JavaScript and
  // so ajv accept, make every `helm install` and `helm template` fail.
  const patterns: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isPlain(node)) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'pattern' && typeof value === 'string') patterns.push(value);
        else walk(value);
      }
    }
  };
  walk(helmValuesSchema());
  assert.ok(patterns.length > 10, `found ${patterns.length} patterns`);
  const unsupported = /\(\?(=|!|<=|<!|>)|\\[1-9]|\\k</;
  assert.deepEqual(
    patterns.filter((p) => unsupported.test(p)),
    [],
  );
});

test('Chart.yaml names the package version for the chart and the app, and the image tag follows', () => {
  assert.equal(chart['apiVersion'], 'v2');
  assert.equal(chart['name'], 'postern');
  assert.equal(chart['version'], VERSION);
  assert.equal(chart['appVersion'], VERSION);
  const image = defaults['image'] as { tag: string; repository: string };
  assert.equal(image.tag, VERSION, 'pinned to the release, never latest');
  assert.ok(chart['kubeVersion'], 'declares the Kubernetes versions it supports');
});

/** `.Values.a.b` paths and `$x := .Values.a` aliases used by the templates. */
function referencedValuePaths(): { file: string; path: string[] }[] {
  const dir = join(chartDir(), 'templates');
  const out: { file: string; path: string[] }[] = [];
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    const aliases = new Map<string, string[]>();
    for (const m of text.matchAll(/\$(\w+) := \.Values((?:\.\w+)+)/g)) {
      aliases.set(m[1]!, m[2]!.slice(1).split('.'));
    }
    // Aliases of aliases: `$svc := $e.service`.
    for (const m of text.matchAll(/\$(\w+) := \$(\w+)((?:\.\w+)+)/g)) {
      const base = aliases.get(m[2]!);
      if (base) aliases.set(m[1]!, [...base, ...m[3]!.slice(1).split('.')]);
    }
    for (const m of text.matchAll(/\.Values((?:\.\w+)+)/g)) {
      out.push({ file, path: m[1]!.slice(1).split('.') });
    }
    for (const m of text.matchAll(/\$(\w+)((?:\.\w+)+)/g)) {
      const base = aliases.get(m[1]!);
      if (base) out.push({ file, path: [...base, ...m[2]!.slice(1).split('.')] });
    }
  }
  return out;
}

test('templates reference only keys that values.yaml defines, and read every one of them', () => {
  const refs = referencedValuePaths();
  assert.ok(refs.length > 50, `found ${refs.length} references`);
  const missing: string[] = [];
  for (const { file, path } of refs) {
    let node: unknown = defaults;
    for (const key of path) {
      // A free-form map (annotations, documents, nodeSelector) may hold any key.
      if (isPlain(node) && Object.keys(node).length === 0) break;
      if (!isPlain(node) || !(key in node)) {
        missing.push(`${file}: .Values.${path.join('.')}`);
        break;
      }
      node = node[key];
    }
  }
  assert.deepEqual(missing, []);
  // And the other way: no value in values.yaml that no template reads (a dead knob).
  const used = refs.map((r) => r.path.join('.'));
  const leaves: string[] = [];
  const walk = (node: Values, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (isPlain(value) && Object.keys(value).length > 0) walk(value, path);
      else leaves.push(path);
    }
  };
  walk(defaults, '');
  const dead = leaves.filter(
    (leaf) => !used.some((u) => u === leaf || u.startsWith(`${leaf}.`) || leaf.startsWith(`${u}.`)),
  );
  assert.deepEqual(dead, []);
});
