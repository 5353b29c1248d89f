import type { DashboardSpec } from '../model';
import { READ_SOURCES } from '../../telemetry/shipper-stats';
import { HEARTBEAT, count, lens, over, searchPanel, top } from './helpers';

/**
 * dockward watching itself: the heartbeat's counters, its own log, and what Elasticsearch refused.
 * The dockward.shipper.* counters are per beat, so panels sum them per bucket; gauges take the max.
 */
export const shipper: DashboardSpec = {
  id: 'dockward-shipper',
  title: '[dockward] Shipper health',
  description: 'Per host: heartbeats; documents and log lines read by source; bulk outcomes acked, duplicate, retried, dead-lettered, dropped; queue and disk spool; lag; own warnings and errors; dead letters.',
  timeFrom: 'now-24h',
  panels: [
    lens('beats', 'Heartbeats per host', 'bar_stacked', 'dockward-internal', { buckets: [over(), top('host.name', 10)], metrics: [count()], where: [HEARTBEAT], w: 24 }),
    lens('last-beat', 'Last heartbeat per host', 'table', 'dockward-internal', {
      buckets: [top('host.name', 50, 'Host')],
      metrics: [{ op: 'max', field: '@timestamp', label: 'Last beat' }, { op: 'max', field: 'dockward.heartbeat.uptime_s', label: 'Uptime (s)' }, { op: 'max', field: 'dockward.heartbeat.followed_containers', label: 'Containers' }],
      where: [HEARTBEAT], w: 24,
    }),
    lens('read', 'Documents read by source (per interval)', 'bar_stacked', 'dockward-internal', {
      buckets: [over()],
      metrics: READ_SOURCES.map((src) => ({ op: 'sum' as const, field: `dockward.shipper.read.sources.${src}`, label: src })),
      where: [HEARTBEAT],
    }),
    lens('lines', 'Log lines read', 'metric', 'dockward-internal', { metrics: [{ op: 'sum', field: 'dockward.shipper.read.log_lines', label: 'Lines' }], where: [HEARTBEAT], w: 12 }),
    lens('events-read', 'Engine events read', 'metric', 'dockward-internal', { metrics: [{ op: 'sum', field: 'dockward.shipper.read.engine_events', label: 'Events' }], where: [HEARTBEAT], w: 12 }),
    lens('outcomes', 'Bulk outcomes (per interval)', 'bar_stacked', 'dockward-internal', {
      buckets: [over()],
      metrics: ['acked', 'duplicate', 'retried', 'dead_lettered', 'dropped'].map((o) => ({ op: 'sum' as const, field: `dockward.shipper.output.${o}`, label: o.replace('_', '-') })),
      where: [HEARTBEAT],
    }),
    lens('spool', 'Disk spool (bytes, records waiting)', 'line', 'dockward-internal', {
      buckets: [over()], metrics: [{ op: 'max', field: 'dockward.shipper.spool.bytes', label: 'bytes' }, { op: 'max', field: 'dockward.shipper.spool.records', label: 'records' }], where: [HEARTBEAT],
    }),
    lens('lag', 'Lag by host (seconds)', 'line', 'dockward-internal', {
      buckets: [over(), top('host.name', 10)],
      metrics: [{ op: 'max', field: 'dockward.shipper.lag.log_s', label: 'log lines read − acked' }, { op: 'max', field: 'dockward.shipper.lag.unacked_s', label: 'oldest unanswered bulk' }],
      where: [HEARTBEAT],
    }),
    lens('queue', 'Queue (documents, bytes)', 'line', 'dockward-internal', {
      buckets: [over()], metrics: [{ op: 'max', field: 'dockward.shipper.queue.documents', label: 'documents' }, { op: 'max', field: 'dockward.shipper.queue.bytes', label: 'bytes' }], where: [HEARTBEAT],
    }),
    lens('per-host', 'Per host: read, acked, retried, queue, lag', 'table', 'dockward-internal', {
      buckets: [top('host.name', 50, 'Host')],
      metrics: [
        { op: 'sum', field: 'dockward.shipper.read.documents', label: 'Read' }, { op: 'sum', field: 'dockward.shipper.output.acked', label: 'Acked' },
        { op: 'sum', field: 'dockward.shipper.output.retried', label: 'Retried' }, { op: 'max', field: 'dockward.shipper.queue.documents', label: 'Queue (max)' },
        { op: 'max', field: 'dockward.shipper.lag.log_s', label: 'Lag s (max)' },
      ],
      where: [HEARTBEAT], w: 48,
    }),
    lens('own-log', 'Own log by level', 'bar_stacked', 'dockward-internal', { buckets: [over(), top('log.level', 5)], metrics: [count()], where: [{ not: HEARTBEAT }] }),
    lens('own-events', 'Top own log events', 'table', 'dockward-internal', { buckets: [top('event.action', 15, 'Event'), top('log.level', 3, 'Level')], metrics: [count()], where: [{ not: HEARTBEAT }] }),
    lens('dead-letters', 'Dead letters by reason', 'bar_stacked', 'dockward-deadletter', { buckets: [over(), top('error.type', 5)], metrics: [count()] }),
    lens('dead-target', 'Dead letters by target stream', 'table', 'dockward-deadletter', { buckets: [top('dockward.deadletter.index', 10, 'Stream'), top('dockward.deadletter.status', 5, 'Status')], metrics: [count()] }),
    searchPanel('dead-list', 'Dead letters', 'dockward-dead-letters'),
  ],
};
