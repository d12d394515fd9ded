/**
 * The layer direction from DESIGN.md, checked by a machine:
 *   cli → {edge, connector, client} → {control, traffic, tunnel, pki, store} → {protocol, config} → core
 * Each rule below forbids one upward or sideways import; cycles fail too.
 */
const layer = (name) => `^src/${name}/`;
const rule = (name, from, to, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: to },
});
const below = {
  core: [],
  protocol: ['core'],
  config: ['core'],
  tunnel: ['core', 'protocol', 'config'],
  pki: ['core', 'protocol', 'config'],
  traffic: ['core', 'protocol', 'config'],
  store: ['core', 'protocol', 'config'],
  control: ['core', 'protocol', 'config', 'tunnel', 'pki', 'traffic', 'store'],
  edge: ['core', 'protocol', 'config', 'tunnel', 'pki', 'traffic', 'store', 'control'],
  connector: ['core', 'protocol', 'config', 'tunnel', 'pki', 'traffic', 'store'],
  client: ['core', 'protocol', 'config', 'tunnel', 'pki'],
  cli: [
    'core',
    'protocol',
    'config',
    'tunnel',
    'pki',
    'traffic',
    'store',
    'control',
    'edge',
    'connector',
    'client',
  ],
};
const forbidden = [
  {
    name: 'no-cycles',
    comment: 'Import cycles hide layering mistakes.',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
  {
    name: 'core-has-no-node-imports',
    comment: 'src/core is pure: no node: built-ins.',
    severity: 'error',
    from: { path: layer('core') },
    to: { dependencyTypes: ['core'] },
  },
  {
    name: 'protocol-is-pure',
    comment: 'src/protocol is a pure codec: no sockets or node built-ins beyond Buffer.',
    severity: 'error',
    from: { path: layer('protocol') },
    to: { dependencyTypes: ['core'], pathNot: '^(node:)?buffer$' },
  },
  {
    name: 'entry-through-index',
    comment: 'Reach into another folder of src only through its index.ts.',
    severity: 'error',
    from: { path: '^src/([^/]+)/' },
    to: { path: '^src/([^/]+)/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
  },
];
for (const [name, allowed] of Object.entries(below)) {
  const others = Object.keys(below).filter((n) => n !== name && !allowed.includes(n));
  if (others.length === 0) continue;
  forbidden.push(
    rule(
      `${name}-imports-only-below`,
      layer(name),
      `^src/(${others.join('|')})/`,
      `src/${name} may import only: ${allowed.join(', ') || 'nothing in src'}.`,
    ),
  );
}
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
