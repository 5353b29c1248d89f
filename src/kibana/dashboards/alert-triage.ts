import type { DashboardSpec } from '../model';
import { count, lens, over, searchPanel, top } from './helpers';

export const alertTriage: DashboardSpec = {
  id: 'dockward-alert-triage',
  title: '[dockward] Alert triage',
  description: 'Work through alerts: per rule and container, how often, when first and last seen, the signals (building blocks) behind risk threshold alerts, and the full list.',
  timeFrom: 'now-7d',
  panels: [
    lens('by-rule', 'Alerts by rule over time', 'bar_stacked', 'dockward-alerts', { buckets: [over(), top('rule.id', 10)], metrics: [count()], w: 32 }),
    lens('severity', 'Severity', 'donut', 'dockward-alerts', { buckets: [top('dockward.alert.severity', 4, 'Severity')], metrics: [count()], w: 16 }),
    lens('rule-container', 'Rule × container', 'table', 'dockward-alerts', {
      buckets: [top('rule.name', 20, 'Rule'), top('container.name', 10, 'Container')],
      metrics: [{ op: 'sum', field: 'dockward.alert.count', label: 'Findings' }, { op: 'max', field: 'event.risk_score', label: 'Risk' }, { op: 'max', field: '@timestamp', label: 'Last seen' }],
      w: 48,
    }),
    lens('images', 'Alerts by image', 'bar_horizontal', 'dockward-alerts', { buckets: [top('container.image.name', 10, 'Image')], metrics: [count()] }),
    lens('subtechniques', 'Techniques (ids)', 'table', 'dockward-alerts', { buckets: [top('threat.technique.id', 15, 'Technique'), top('threat.tactic.id', 5, 'Tactic')], metrics: [count()] }),
    // Building blocks: what each container did that is normal alone, and where it added up.
    lens('signals-technique', 'Signals by technique per container', 'table', 'dockward-signals', {
      buckets: [top('container.name', 10, 'Container'), top('threat.technique.name', 10, 'Technique')],
      metrics: [{ op: 'sum', field: 'dockward.signal.count', label: 'Findings' }, { op: 'unique_count', field: 'rule.id', label: 'Rules' }, { op: 'max', field: '@timestamp', label: 'Last seen' }],
    }),
    lens('risk-alerts', 'Risk threshold alerts', 'table', 'dockward-alerts', {
      buckets: [top('container.name', 10, 'Container')],
      metrics: [{ op: 'max', field: 'dockward.risk.score', label: 'Risk score' }, { op: 'max', field: 'dockward.risk.contributors_total', label: 'Contributing rules' }, { op: 'max', field: '@timestamp', label: 'Last raised' }],
      where: [{ field: 'rule.id', is: 'dockward-risk-threshold' }],
    }),
    lens('signals-over-time', 'Signals by rule over time', 'bar_stacked', 'dockward-signals', { buckets: [over(), top('rule.id', 10)], metrics: [count()], w: 48 }),
    searchPanel('list', 'All alerts', 'dockward-alert-triage', 48, 20),
  ],
};
