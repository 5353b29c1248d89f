import type { IlmPutLifecycleRequest, IndicesPutDataLifecycleRequest } from '@elastic/elasticsearch/lib/api/types';
import type { RetentionConfig } from './setup-config';

import { retentionOf, type RetentionClass } from './streams';

export type { RetentionClass } from './streams';

/** Which retention each stream gets (the stream catalog's, src/setup/streams.ts). */
export const retentionClass = retentionOf;

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
