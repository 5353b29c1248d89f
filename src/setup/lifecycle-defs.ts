import type { IlmPutLifecycleRequest, IndicesPutDataLifecycleRequest } from '@elastic/elasticsearch/lib/api/types';
import type { RetentionConfig } from './setup-config';

export type RetentionClass = 'logs' | 'stats' | 'alerts' | 'config' | 'audit';

/** Which retention each stream gets: findings and the record of what was done outlive raw logs. */
export function retentionClass(dataset: string): RetentionClass {
  switch (dataset) {
    case 'dockward.stats': return 'stats';
    case 'dockward.alert': return 'alerts';
    case 'dockward.config': case 'dockward.posture': return 'config';
    case 'dockward.audit': return 'audit';
    default: return 'logs';
  }
}

export const policyName = (c: RetentionClass): string => `dockward-${c}`;

/** Rollover daily or at the recommended shard size, delete once the retention has passed. */
export function ilmPolicy(c: RetentionClass, cfg: RetentionConfig): IlmPutLifecycleRequest {
  return {
    name: policyName(c),
    policy: {
      _meta: { managed_by: 'dockward', retention: cfg[c] },
      phases: {
        hot: { min_age: '0ms', actions: { rollover: { max_primary_shard_size: '50gb', max_age: '1d' } } },
        delete: { min_age: cfg[c], actions: { delete: {} } },
      },
    },
  };
}

/** The data stream lifecycle alternative: retention only (Elasticsearch manages rollover itself). */
export function dataLifecycle(dataStreams: string, c: RetentionClass, cfg: RetentionConfig): IndicesPutDataLifecycleRequest {
  return { name: dataStreams, data_retention: cfg[c], enabled: true };
}

/** The per-stream component template that applies one or the other to new backing indices. */
export function lifecycleComponent(type: string, dataset: string, cfg: RetentionConfig): { name: string; template: Record<string, unknown> } {
  const c = retentionClass(dataset);
  const template = cfg.mode === 'ilm'
    ? { settings: { 'index.lifecycle.name': policyName(c) } }
    : { lifecycle: { enabled: true, data_retention: cfg[c] }, settings: { 'index.lifecycle.prefer_ilm': false } };
  return { name: `${type}-${dataset}@lifecycle`, template };
}
