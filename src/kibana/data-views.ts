import type { DataViewSpec } from './model';

/** One data view per stream family. Ids are stable: dashboards and searches reference them. */
export const DATA_VIEWS: DataViewSpec[] = [
  { id: 'dockward-logs', name: 'dockward: all logs', title: 'logs-dockward.*-*' },
  { id: 'dockward-alerts', name: 'dockward: alerts', title: 'logs-dockward.alert-*' },
  { id: 'dockward-processes', name: 'dockward: processes and exec sessions', title: 'logs-dockward.process-*' },
  { id: 'dockward-files', name: 'dockward: file drift', title: 'logs-dockward.file-*' },
  { id: 'dockward-config', name: 'dockward: container configuration', title: 'logs-dockward.config-*' },
  { id: 'dockward-stats', name: 'dockward: container stats', title: 'metrics-dockward.stats-*' },
  { id: 'dockward-anomaly', name: 'dockward: anomaly scores', title: 'metrics-dockward.anomaly-*' },
  { id: 'dockward-internal', name: 'dockward: own logs and heartbeats', title: 'logs-dockward.internal-*' },
  { id: 'dockward-deadletter', name: 'dockward: dead letters', title: 'logs-dockward.deadletter-*' },
];

export function dataView(id: string): DataViewSpec {
  const v = DATA_VIEWS.find((d) => d.id === id);
  if (!v) throw new Error(`no data view ${id}`);
  return v;
}
