import { DATA_VIEWS } from './data-views';
import type { DashboardSpec, SavedObject } from './model';
import { renderDashboard, renderDataView, renderSearch } from './render';
import { SEARCHES } from './searches';
import { alertTriage } from './dashboards/alert-triage';
import { container } from './dashboards/container';
import { overview } from './dashboards/overview';
import { processes } from './dashboards/processes';
import { resources } from './dashboards/resources';
import { shipper } from './dashboards/shipper';

export const DASHBOARDS: DashboardSpec[] = [overview, alertTriage, container, processes, resources, shipper];

/** Every saved object, data views first (Kibana does not need the order; readers of the file do). */
export function savedObjects(): SavedObject[] {
  return [...DATA_VIEWS.map(renderDataView), ...SEARCHES.map(renderSearch), ...DASHBOARDS.map(renderDashboard)];
}

/** The committed `kibana/dockward.ndjson`: one object per line, no export summary line. */
export function toNdjson(objects: SavedObject[] = savedObjects()): string {
  return objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
}
