import type { DashboardSpec } from '../model';
import { count, lens, over, searchPanel, top } from './helpers';

export const overview: DashboardSpec = {
  id: 'dockward-overview',
  title: '[dockward] Overview',
  description: 'Alerts across every container: how many, how severe, which rules, containers and ATT&CK techniques.',
  timeFrom: 'now-24h',
  panels: [
    lens('alerts', 'Alerts', 'metric', 'dockward-alerts', { metrics: [count('Alerts')], w: 12, h: 8 }),
    lens('alerting-containers', 'Containers with alerts', 'metric', 'dockward-alerts', { metrics: [{ op: 'unique_count', field: 'container.id', label: 'Containers' }], w: 12, h: 8 }),
    lens('findings', 'Findings (grouped alerts expanded)', 'metric', 'dockward-alerts', { metrics: [{ op: 'sum', field: 'dockward.alert.count', label: 'Findings' }], w: 12, h: 8 }),
    lens('max-risk', 'Highest risk score', 'metric', 'dockward-alerts', { metrics: [{ op: 'max', field: 'event.risk_score', label: 'Risk score' }], w: 12, h: 8 }),
    lens('by-severity', 'Alerts by severity over time', 'bar_stacked', 'dockward-alerts', { buckets: [over(), top('dockward.alert.severity', 4)], metrics: [count()], w: 48 }),
    lens('top-rules', 'Top rules', 'table', 'dockward-alerts', { buckets: [top('rule.name', 10, 'Rule')], metrics: [count('Alerts'), { op: 'sum', field: 'dockward.alert.count', label: 'Findings' }] }),
    lens('top-containers', 'Top containers', 'bar_horizontal', 'dockward-alerts', { buckets: [top('container.name', 10, 'Container')], metrics: [count('Alerts')] }),
    lens('techniques', 'Top ATT&CK techniques', 'donut', 'dockward-alerts', { buckets: [top('threat.technique.name', 10, 'Technique')], metrics: [count()] }),
    lens('tactics', 'Top ATT&CK tactics', 'donut', 'dockward-alerts', { buckets: [top('threat.tactic.name', 10, 'Tactic')], metrics: [count()] }),
    searchPanel('latest', 'Latest alerts', 'dockward-alert-triage'),
  ],
};
