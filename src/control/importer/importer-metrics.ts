import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Prometheus metrics of the configuration importer, registered in the edge's registry. */
export class ImporterMetrics {
  readonly generation: Gauge;
  readonly ok: Gauge;
  readonly problems: Gauge;
  readonly lastSuccess: Gauge;
  readonly imports: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.generation = new Gauge({
      name: 'postern_edge_config_generation',
      help: 'Configuration generation applied from documents (0 = none yet).',
      registers,
    });
    this.ok = new Gauge({
      name: 'postern_edge_config_import_ok',
      help: '1 when the last import of the configuration directory applied, 0 when it failed.',
      registers,
    });
    this.problems = new Gauge({
      name: 'postern_edge_config_import_problems',
      help: 'Problems found by the last import (0 when it applied).',
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'postern_edge_config_import_last_success_timestamp_seconds',
      help: 'When a configuration was last applied from documents (Unix time).',
      registers,
    });
    this.imports = new Counter({
      name: 'postern_edge_config_imports_total',
      help: 'Imports of changed documents, by result (applied, invalid, apply_failed).',
      labelNames: ['result'] as const,
      registers,
    });
  }
}
