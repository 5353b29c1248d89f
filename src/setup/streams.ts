/**
 * The one list of data streams dockward writes. Index templates, pipelines and lifecycle
 * components (setup), `dockward check`, the retention classes and the Kibana data views are all
 * derived from it, and a unit test holds the README's stream table to it: a new stream is one
 * line here, never a hunt through every place that lists streams.
 */
export type RetentionClass = 'logs' | 'stats' | 'alerts' | 'config' | 'audit';
export const RETENTION_CLASSES: readonly RetentionClass[] = ['logs', 'stats', 'alerts', 'config', 'audit'];

export interface StreamSpec {
  type: 'logs' | 'metrics';
  dataset: string;
  /** Findings and the record of what was done outlive raw logs. */
  retention: RetentionClass;
  /** A Kibana data view of its own (id and display name); streams without one are reached through `dockward-logs`. */
  view?: { id: string; name: string };
}

export const STREAM_CATALOG: readonly StreamSpec[] = [
  { type: 'logs', dataset: 'dockward.container', retention: 'logs' },
  { type: 'logs', dataset: 'dockward.event', retention: 'logs' },
  { type: 'logs', dataset: 'dockward.process', retention: 'logs', view: { id: 'dockward-processes', name: 'dockward: processes and exec sessions' } },
  { type: 'logs', dataset: 'dockward.network', retention: 'logs' },
  { type: 'logs', dataset: 'dockward.file', retention: 'logs', view: { id: 'dockward-files', name: 'dockward: file drift' } },
  { type: 'logs', dataset: 'dockward.config', retention: 'config', view: { id: 'dockward-config', name: 'dockward: container configuration' } },
  { type: 'logs', dataset: 'dockward.posture', retention: 'config' },
  { type: 'logs', dataset: 'dockward.alert', retention: 'alerts', view: { id: 'dockward-alerts', name: 'dockward: alerts' } },
  // A risk alert names the signals that led to it: they are kept as long as the alert.
  { type: 'logs', dataset: 'dockward.signal', retention: 'alerts', view: { id: 'dockward-signals', name: 'dockward: signals (building blocks)' } },
  { type: 'logs', dataset: 'dockward.audit', retention: 'audit' },
  { type: 'logs', dataset: 'dockward.internal', retention: 'logs', view: { id: 'dockward-internal', name: 'dockward: own logs and heartbeats' } },
  { type: 'logs', dataset: 'dockward.deadletter', retention: 'logs', view: { id: 'dockward-deadletter', name: 'dockward: dead letters' } },
  { type: 'metrics', dataset: 'dockward.stats', retention: 'stats', view: { id: 'dockward-stats', name: 'dockward: container stats' } },
  { type: 'metrics', dataset: 'dockward.anomaly', retention: 'logs', view: { id: 'dockward-anomaly', name: 'dockward: anomaly scores' } },
];

/** Every data stream, as [type, dataset]. */
export const STREAMS: Array<['logs' | 'metrics', string]> = STREAM_CATALOG.map((s) => [s.type, s.dataset]);

/** The retention class of a dataset (a dataset dockward does not write is kept as logs). */
export function retentionOf(dataset: string): RetentionClass {
  return STREAM_CATALOG.find((s) => s.dataset === dataset)?.retention ?? 'logs';
}
