import type { WatchersConfig } from './setup-config';
import { watchDefs, type WatchDef } from './watch-defs';

/** A Kibana `.es-query` rule as `POST /api/alerting/rule/<id>` takes it. */
export interface EsQueryRule {
  name: string;
  rule_type_id: '.es-query';
  consumer: 'stackAlerts';
  schedule: { interval: string };
  enabled: boolean;
  tags: string[];
  params: {
    searchType: 'esQuery';
    index: string[];
    timeField: '@timestamp';
    esQuery: string;
    size: number;
    threshold: number[];
    thresholdComparator: '>' | '>=' | '<' | '<=';
    timeWindowSize: number;
    timeWindowUnit: 's' | 'm' | 'h' | 'd';
    aggType: 'count' | 'sum';
    aggField?: string;
    groupBy: 'all' | 'top';
    termField?: string;
    termSize?: number;
    excludeHitsFromPreviousRun: boolean;
  };
  actions: Array<{ id: string; group: 'query matched'; params: Record<string, unknown>; frequency: { summary: false; notify_when: 'onActionGroupChange' | 'onActiveAlert' | 'onThrottleInterval'; throttle: string | null } }>;
}

export interface Connector { id: string; name: string; connector_type_id: '.server-log' | '.index'; config: Record<string, unknown> }

export const SERVER_LOG = 'dockward-server-log';
export const INDEX_CONNECTOR = 'dockward-index';

/** Connectors Basic allows: the server log always, an index when setup.watchers.index is set. */
export function connectors(cfg: WatchersConfig): Connector[] {
  const c: Connector[] = [{ id: SERVER_LOG, name: 'dockward: Kibana server log', connector_type_id: '.server-log', config: {} }];
  if (cfg.index) c.push({ id: INDEX_CONNECTOR, name: `dockward: ${cfg.index}`, connector_type_id: '.index', config: { index: cfg.index, refresh: false, executionTimeField: '@timestamp' } });
  return c;
}

function window(period: string): { timeWindowSize: number; timeWindowUnit: 's' | 'm' | 'h' | 'd' } {
  const m = /^(\d+)([smhd])$/.exec(period)!;
  return { timeWindowSize: Number(m[1]), timeWindowUnit: m[2] as 's' | 'm' | 'h' | 'd' };
}

/**
 * The Basic-licence equivalent of each watch. `.es-query` counts hits (or sums a field, per group)
 * in a time window, so: "any hit" watches map one to one; the burst becomes a per-container sum;
 * the heartbeat watch becomes "no heartbeat at all within the limit" — per-host staleness needs
 * Watcher (a host that stopped has no group left to compare).
 */
export function esQueryRules(cfg: WatchersConfig, namespace = '*'): Array<{ id: string; rule: EsQueryRule }> {
  const base = (d: WatchDef, params: Partial<EsQueryRule['params']>, win: string): EsQueryRule => ({
    name: `[dockward] ${d.title}`,
    rule_type_id: '.es-query',
    consumer: 'stackAlerts',
    schedule: { interval: cfg.interval },
    enabled: true,
    tags: ['dockward'],
    params: {
      searchType: 'esQuery', index: [d.index], timeField: '@timestamp', esQuery: JSON.stringify({ query: d.query }),
      size: 10, threshold: [0], thresholdComparator: '>', ...window(win), aggType: 'count', groupBy: 'all', excludeHitsFromPreviousRun: true, ...params,
    },
    actions: connectors(cfg).map((c) => ({
      id: c.id, group: 'query matched',
      params: c.connector_type_id === '.server-log'
        ? { level: 'warn', message: `[${d.id}] {{rule.name}}: {{context.message}}` }
        : { documents: [{ rule: d.id, message: '{{context.message}}', value: '{{context.value}}', date: '{{context.date}}' }] },
      frequency: { summary: false, notify_when: 'onThrottleInterval', throttle: cfg.throttle },
    })),
  });
  const defs = Object.fromEntries(watchDefs({ cfg, namespace }).map((d) => [d.id, d]));
  const lookback = window(cfg.interval);
  const lb = `${lookback.timeWindowSize * 2}${lookback.timeWindowUnit}`;
  // The window lives in the rule's params: the query keeps only the conditions.
  const withoutRange = (d: WatchDef): WatchDef => ({ ...d, query: stripRange(d.query) });
  return [
    { id: 'dockward-high-alert', rule: base(withoutRange(defs['dockward-high-alert']), {}, lb) },
    { id: 'dockward-alert-burst', rule: base(withoutRange(defs['dockward-alert-burst']), { aggType: 'sum', aggField: 'dockward.alert.count', groupBy: 'top', termField: 'container.name', termSize: 10, threshold: [cfg.burst_threshold], thresholdComparator: '>=' }, cfg.burst_window) },
    { id: 'dockward-heartbeat-stopped', rule: base({ ...defs['dockward-heartbeat-stopped'], query: { bool: { filter: [{ term: { 'event.action': 'heartbeat' } }] } } }, { threshold: [1], thresholdComparator: '<' }, cfg.heartbeat_stale) },
    { id: 'dockward-dead-letters', rule: base(withoutRange(defs['dockward-dead-letters']), {}, lb) },
    { id: 'dockward-dangerous-config', rule: base(withoutRange(defs['dockward-dangerous-config']), {}, lb) },
  ];
}

function stripRange(q: WatchDef['query']): WatchDef['query'] {
  const b = q.bool!;
  const filter = (Array.isArray(b.filter) ? b.filter : b.filter ? [b.filter] : []).filter((f) => !f.range);
  return { bool: { ...b, filter } };
}
