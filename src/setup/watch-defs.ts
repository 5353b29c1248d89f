import type { QueryDslQueryContainer, WatcherAction, WatcherPutWatchRequest } from '@elastic/elasticsearch/lib/api/types';
import type { WatchersConfig } from './setup-config';

/** Settings the config writes as "50gb"-style strings; here the namespace too (`*` = every one). */
export interface WatchContext { cfg: WatchersConfig; namespace: string }

const DANGEROUS_CAPS = ['ALL', 'SYS_ADMIN', 'CAP_SYS_ADMIN', 'SYS_PTRACE', 'CAP_SYS_PTRACE', 'SYS_MODULE', 'CAP_SYS_MODULE', 'DAC_READ_SEARCH', 'CAP_DAC_READ_SEARCH', 'NET_ADMIN', 'CAP_NET_ADMIN'];
const SENSITIVE_MOUNTS = ['/', '/etc', '/proc', '/root', '/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/lib/docker'];

/** Twice the schedule: a document indexed late (spool, lag) still lands in some run's window. */
function lookback(cfg: WatchersConfig): string {
  const m = /^(\d+)([smhd])$/.exec(cfg.interval)!;
  return `${Number(m[1]) * 2}${m[2]}`;
}

export interface WatchDef {
  id: string;
  title: string;
  /** What the Basic-licence Kibana rule can express of it (see alert-rules.ts). */
  index: string;
  query: QueryDslQueryContainer;
  body: WatcherPutWatchRequest;
}

function actions(id: string, text: string, cfg: WatchersConfig): Record<string, WatcherAction> {
  const a: Record<string, WatcherAction> = { log: { logging: { level: 'warn', category: 'dockward', text: `[${id}] ${text}` } } };
  if (cfg.index) a.index = { index: { index: cfg.index, op_type: 'create', execution_time_field: '@timestamp' } };
  if (cfg.webhook) {
    const u = new URL(cfg.webhook);
    a.webhook = {
      webhook: {
        scheme: u.protocol === 'https:' ? 'https' : 'http', host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
        method: 'post', path: u.pathname, headers: { 'Content-Type': 'application/json' }, body: '{{#toJson}}ctx.payload{{/toJson}}',
      },
    };
  }
  return a;
}

function watch(id: string, title: string, index: string, query: QueryDslQueryContainer, search: Record<string, unknown>, condition: WatcherPutWatchRequest['condition'], text: string, ctx: WatchContext, meta: Record<string, unknown> = {}): WatchDef {
  const body: WatcherPutWatchRequest = {
    id,
    metadata: { managed_by: 'dockward', title, namespace: ctx.namespace, ...meta },
    trigger: { schedule: { interval: ctx.cfg.interval } },
    input: { search: { request: { indices: [index], rest_total_hits_as_int: true, body: { query, ...search } } } },
    condition,
    throttle_period: ctx.cfg.throttle,
    actions: actions(id, text, ctx.cfg),
  };
  return { id, title, index, query, body };
}

const since = (t: string): QueryDslQueryContainer => ({ range: { '@timestamp': { gte: `now-${t}` } } });

export function watchDefs(ctx: WatchContext): WatchDef[] {
  const ns = ctx.namespace;
  const { cfg } = ctx;
  return [
    watch('dockward-high-alert', 'New high or critical alert', `logs-dockward.alert-${ns}`,
      { bool: { filter: [since(lookback(cfg)), { terms: { 'dockward.alert.severity': ['high', 'critical'] } }] } },
      { size: 10, sort: [{ '@timestamp': 'desc' }], _source: ['rule.id', 'rule.name', 'container.name', 'dockward.alert.severity', 'message'] },
      { compare: { 'ctx.payload.hits.total': { gt: 0 } } },
      '{{ctx.payload.hits.total}} high or critical alert(s); latest: {{ctx.payload.hits.hits.0._source.rule.name}} on {{ctx.payload.hits.hits.0._source.container.name}}', ctx),
    watch('dockward-alert-burst', 'Alert burst on one container', `logs-dockward.alert-${ns}`,
      { bool: { filter: [since(cfg.burst_window)] } },
      { size: 0, aggs: { containers: { terms: { field: 'container.name', size: 10, order: { findings: 'desc' } }, aggs: { findings: { sum: { field: 'dockward.alert.count' } } } } } },
      { array_compare: { 'ctx.payload.aggregations.containers.buckets': { path: 'findings.value', gte: { value: cfg.burst_threshold, quantifier: 'some' } } } },
      'a container reached {{ctx.metadata.threshold}} findings within {{ctx.metadata.window}}: {{ctx.payload.aggregations.containers.buckets.0.key}} ({{ctx.payload.aggregations.containers.buckets.0.findings.value}})', ctx,
      { threshold: cfg.burst_threshold, window: cfg.burst_window }),
    watch('dockward-heartbeat-stopped', 'A shipper stopped sending heartbeats', `logs-dockward.internal-${ns}`,
      // Hosts seen in the last day, each with its beats within the staleness limit: none means stopped.
      { bool: { filter: [since('24h'), { term: { 'event.action': 'heartbeat' } }] } },
      { size: 0, aggs: { hosts: { terms: { field: 'host.name', size: 500 }, aggs: { recent: { filter: since(cfg.heartbeat_stale) }, last: { max: { field: '@timestamp' } } } } } },
      { array_compare: { 'ctx.payload.aggregations.hosts.buckets': { path: 'recent.doc_count', eq: { value: 0, quantifier: 'some' } } } },
      'a dockward host sent no heartbeat for {{ctx.metadata.stale}} (hosts seen today: {{ctx.payload.aggregations.hosts.buckets.size}})', ctx,
      { stale: cfg.heartbeat_stale }),
    watch('dockward-dead-letters', 'Dead letters appearing', `logs-dockward.deadletter-${ns}`,
      { bool: { filter: [since(lookback(cfg))] } },
      { size: 5, sort: [{ '@timestamp': 'desc' }], _source: ['dockward.deadletter.index', 'error.type', 'message'], aggs: { targets: { terms: { field: 'dockward.deadletter.index', size: 10 } } } },
      { compare: { 'ctx.payload.hits.total': { gt: 0 } } },
      '{{ctx.payload.hits.total}} document(s) refused by Elasticsearch; first: {{ctx.payload.hits.hits.0._source.error.type}}', ctx),
    watch('dockward-dangerous-config', 'Container started with a dangerous configuration', `logs-dockward.config-${ns}`,
      {
        bool: {
          filter: [since(lookback(cfg))],
          should: [
            { term: { 'docker.config.privileged': true } },
            { terms: { 'docker.config.cap_add': DANGEROUS_CAPS } },
            { terms: { 'docker.config.mounts.source': SENSITIVE_MOUNTS } },
            ...['pid_mode', 'ipc_mode', 'uts_mode', 'network_mode'].map((f) => ({ term: { [`docker.config.${f}`]: 'host' } })),
          ],
          minimum_should_match: 1,
        },
      },
      { size: 10, sort: [{ '@timestamp': 'desc' }], _source: ['container.name', 'docker.config.privileged', 'docker.config.cap_add', 'docker.config.mounts.source', 'docker.config.pid_mode', 'docker.config.network_mode'] },
      { compare: { 'ctx.payload.hits.total': { gt: 0 } } },
      '{{ctx.payload.hits.total}} container(s) with a dangerous configuration; latest: {{ctx.payload.hits.hits.0._source.container.name}}', ctx),
  ];
}
