export { ConfigImporter } from './config-importer.js';
export type { ConfigImporterOptions, ImportInfo, StartOutcome } from './config-importer.js';
export type { ImportStatus } from './import-status.js';
export { importConfigTree, evaluateTree, readTree } from './import-tree.js';
export type { ImportedConfiguration, Evaluation, TreeRead } from './import-tree.js';
export type { TreeLimits } from './config-tree.js';
export { certificateProblems } from './certificate-check.js';
export { ImporterMetrics } from './importer-metrics.js';
export { importerErrors } from './errors.js';
