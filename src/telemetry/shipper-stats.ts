import type { DocumentQueue } from '../ship/queue';

/**
 * The `dockward.shipper.*` part of a heartbeat: what the shipper did since the previous beat, read
 * from the same counters `/metrics` exposes (Telemetry's registry), never counted a second time.
 *
 * Counters are deltas since the previous beat (the first beat: since start), so a dashboard sums
 * them per time bucket and per host, and a restart (counters back to 0) cannot show as a negative
 * rate. Gauges (queue, spool, lag) are the value at the beat.
 */

/** Datasets the collectors write; each gets a fixed field so it can be mapped and charted. */
export const READ_SOURCES = ['container', 'event', 'process', 'network', 'stats', 'file', 'config', 'posture'] as const;
const OUTCOMES = ['acked', 'duplicate', 'dead_lettered', 'dropped'] as const;

/** Every field this module writes, with its mapping (numeric, aggregatable). */
export const SHIPPER_FIELDS: Record<string, Record<string, unknown>> = {
  'dockward.shipper.interval_s': { type: 'float' },
  ...Object.fromEntries(['documents', 'log_lines', 'engine_events', ...READ_SOURCES.map((s) => `sources.${s}`)].map((f) => [`dockward.shipper.read.${f}`, { type: 'long' }])),
  ...Object.fromEntries([...OUTCOMES, 'retried'].map((f) => [`dockward.shipper.output.${f}`, { type: 'long' }])),
  ...Object.fromEntries(['documents', 'bytes'].map((f) => [`dockward.shipper.queue.${f}`, { type: 'long' }])),
  ...Object.fromEntries(['bytes', 'records'].map((f) => [`dockward.shipper.spool.${f}`, { type: 'long' }])),
  'dockward.shipper.spool.age_s': { type: 'float' },
  'dockward.shipper.lag.log_s': { type: 'float' },
  'dockward.shipper.lag.unacked_s': { type: 'float' },
};

type Snapshot = Record<string, number>;

/** Sum of every labelled series of one metric (`name{…}`). */
function sum(snap: Snapshot, name: string, filter: (labels: string) => boolean = () => true): number {
  let total = 0;
  for (const [k, v] of Object.entries(snap)) {
    if (k.startsWith(`${name}{`) && filter(k.slice(name.length + 1, -1))) total += v;
  }
  return total;
}

function max(snap: Snapshot, name: string): number {
  let m = 0;
  for (const [k, v] of Object.entries(snap)) if (k.startsWith(`${name}{`) && v > m) m = v;
  return m;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** Builds the fields from two snapshots of the registry; remembers nothing itself. */
export function shipperFields(now: Snapshot, prev: Snapshot, elapsedMs: number, queue: DocumentQueue): Record<string, unknown> {
  const delta = (name: string, filter?: (labels: string) => boolean) => Math.max(0, sum(now, name, filter) - sum(prev, name, filter));
  const read = 'dockward_documents_read_total';
  const held = queue.spooled;
  const spool = held ? { spool: { bytes: held.bytes, records: held.records, age_s: round(held.ageSeconds) } } : {};
  return {
    interval_s: round(elapsedMs / 1000),
    read: {
      documents: delta(read),
      log_lines: delta('dockward_log_lines_read_total'),
      engine_events: delta('dockward_engine_events_read_total'),
      sources: Object.fromEntries(READ_SOURCES.map((s) => [s, delta(read, (l) => l === `dataset=dockward.${s}`)])),
    },
    output: {
      ...Object.fromEntries(OUTCOMES.map((o) => [o, delta('dockward_documents_total', (l) => l === `outcome=${o}`)])),
      retried: delta('dockward_documents_retried_total'),
    },
    queue: { documents: queue.size, bytes: queue.byteSize },
    ...spool,
    lag: {
      // Engine time between the newest line read and the newest acknowledged, worst container.
      log_s: round(max(now, 'dockward_log_lag_seconds')),
      unacked_s: round(now.dockward_oldest_unacked_seconds ?? 0),
    },
  };
}
