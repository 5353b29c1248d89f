import type { DashboardSpec } from '../model';
import { HEARTBEAT, count, lens, over, searchPanel, top } from './helpers';

/** dockward watching itself: the heartbeat's counters, its own log, and what Elasticsearch refused. */
export const shipper: DashboardSpec = {
  id: 'dockward-shipper',
  title: '[dockward] Shipper health',
  description: 'Per host: heartbeats, documents acked, duplicate, dead-lettered and dropped, queue depth, followed containers, own warnings and errors, dead letters.',
  timeFrom: 'now-24h',
  panels: [
    lens('beats', 'Heartbeats per host', 'bar_stacked', 'dockward-internal', { buckets: [over(), top('host.name', 10)], metrics: [count()], where: [HEARTBEAT], w: 24 }),
    lens('last-beat', 'Last heartbeat per host', 'table', 'dockward-internal', {
      buckets: [top('host.name', 50, 'Host')],
      metrics: [{ op: 'max', field: '@timestamp', label: 'Last beat' }, { op: 'max', field: 'dockward.heartbeat.uptime_s', label: 'Uptime (s)' }, { op: 'max', field: 'dockward.heartbeat.followed_containers', label: 'Containers' }],
      where: [HEARTBEAT], w: 24,
    }),
    lens('outcomes', 'Documents by outcome (cumulative)', 'line', 'dockward-internal', {
      buckets: [over()],
      metrics: [
        { op: 'max', field: 'dockward.heartbeat.acked', label: 'acked' }, { op: 'max', field: 'dockward.heartbeat.duplicate', label: 'duplicate' },
        { op: 'max', field: 'dockward.heartbeat.dead_lettered', label: 'dead-lettered' }, { op: 'max', field: 'dockward.heartbeat.dropped', label: 'dropped' },
      ],
      where: [HEARTBEAT],
    }),
    lens('queue', 'Queue (documents, bytes)', 'line', 'dockward-internal', {
      buckets: [over()], metrics: [{ op: 'max', field: 'dockward.heartbeat.queue_documents', label: 'documents' }, { op: 'max', field: 'dockward.heartbeat.queue_bytes', label: 'bytes' }], where: [HEARTBEAT],
    }),
    lens('own-log', 'Own log by level', 'bar_stacked', 'dockward-internal', { buckets: [over(), top('log.level', 5)], metrics: [count()], where: [{ not: HEARTBEAT }] }),
    lens('own-events', 'Top own log events', 'table', 'dockward-internal', { buckets: [top('event.action', 15, 'Event'), top('log.level', 3, 'Level')], metrics: [count()], where: [{ not: HEARTBEAT }] }),
    lens('dead-letters', 'Dead letters by reason', 'bar_stacked', 'dockward-deadletter', { buckets: [over(), top('error.type', 5)], metrics: [count()] }),
    lens('dead-target', 'Dead letters by target stream', 'table', 'dockward-deadletter', { buckets: [top('dockward.deadletter.index', 10, 'Stream'), top('dockward.deadletter.status', 5, 'Status')], metrics: [count()] }),
    searchPanel('dead-list', 'Dead letters', 'dockward-dead-letters'),
  ],
};
