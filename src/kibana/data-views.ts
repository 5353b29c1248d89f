import { STREAM_CATALOG } from '../setup/streams';
import type { DataViewSpec } from './model';

/** All logs, and one data view per stream that has one in the catalog. Ids are stable: dashboards and searches reference them. */
export const DATA_VIEWS: DataViewSpec[] = [
  { id: 'dockward-logs', name: 'dockward: all logs', title: 'logs-dockward.*-*' },
  ...STREAM_CATALOG.flatMap((s) => (s.view ? [{ id: s.view.id, name: s.view.name, title: `${s.type}-${s.dataset}-*` }] : [])),
];

export function dataView(id: string): DataViewSpec {
  const v = DATA_VIEWS.find((d) => d.id === id);
  if (!v) throw new Error(`no data view ${id}`);
  return v;
}
