import type winston from 'winston';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { Health } from './health';

/**
 * Internal telemetry: named events that are both logged (winston) and counted (Prometheus), plus
 * the few hot-path counters that are only counted. Event names are stable and dotted
 * (`logs.follow.start`); the counter `dockward_events_total{event=…}` counts every one of them.
 */
export class Telemetry {
  readonly registry = new Registry();
  private readonly events: Counter<'event'>;
  readonly documents: Counter<'outcome'>;
  readonly retries: Counter<'reason'>;
  readonly bulkRequests: Counter<'result'>;
  readonly linesRead: Counter<'stream'>;
  readonly engineEvents: Counter<'type'>;
  readonly queueDocs: Gauge;
  readonly queueBytes: Gauge;
  readonly followedContainers: Gauge;
  readonly queuePeakBytes: Gauge;
  readonly logLag: Gauge<'container'>;
  readonly internalLogErrors: Counter;
  readonly ruleEvaluations: Counter;
  readonly alerts: Counter<'rule'>;
  readonly ruleMatches: Counter<'rule'>;
  readonly tamperReports: Counter<'kind'>;
  readonly detectSkipped: Counter;
  readonly documentsRead: Counter<'dataset'>;
  readonly unackedAge: Gauge;
  readonly degraded: Gauge;
  /** Degradation reasons of components that keep running (reported by /health). */
  readonly health = new Health();
  private peak = 0;
  /** Counts of the per-document counters, kept as numbers and added when the registry is read (collect). */
  private readonly readBy = new Map<string, { dataset: string; n: number }>();
  private readonly linesPending = { stdout: 0, stderr: 0 };
  private readonly evaluationsPending = { n: 0 };
  /** Set by the sink: seconds since the oldest batch still waiting for Elasticsearch's answer was taken. */
  unackedSeconds: () => number = () => 0;

  constructor(readonly logger: winston.Logger) {
    const r = [this.registry];
    // The process's own figures every Node service exports (RSS, heap, GC, event-loop lag), read when scraped.
    collectDefaultMetrics({ register: this.registry });
    this.events = new Counter({ name: 'dockward_events_total', help: 'Named internal events', labelNames: ['event'], registers: r });
    this.documents = new Counter({ name: 'dockward_documents_total', help: 'Documents by final outcome', labelNames: ['outcome'], registers: r });
    this.retries = new Counter({ name: 'dockward_documents_retried_total', help: 'Document sends to be retried', labelNames: ['reason'], registers: r });
    this.bulkRequests = new Counter({ name: 'dockward_bulk_requests_total', help: 'Bulk requests', labelNames: ['result'], registers: r });
    // Per line and per document: prom-client hashes the labels on every inc, a profiled cost; these
    // count as plain numbers and reach the counters whenever they are read (scrape, snapshot).
    const lines = this.linesPending;
    this.linesRead = new Counter({ name: 'dockward_log_lines_read_total', help: 'Container log lines read', labelNames: ['stream'], registers: r, collect() {
      for (const stream of ['stdout', 'stderr'] as const) if (lines[stream]) { this.inc({ stream }, lines[stream]); lines[stream] = 0; }
    } });
    this.engineEvents = new Counter({ name: 'dockward_engine_events_read_total', help: 'Engine events read', labelNames: ['type'], registers: r });
    this.queueDocs = new Gauge({ name: 'dockward_queue_documents', help: 'Documents waiting for the sink', registers: r });
    this.queueBytes = new Gauge({ name: 'dockward_queue_bytes', help: 'Bytes waiting for the sink', registers: r });
    this.followedContainers = new Gauge({ name: 'dockward_followed_containers', help: 'Containers whose logs are followed', registers: r });
    this.queuePeakBytes = new Gauge({ name: 'dockward_queue_peak_bytes', help: 'Largest queue/spool size seen since start', registers: r });
    const evaluations = this.evaluationsPending;
    this.ruleEvaluations = new Counter({ name: 'dockward_rule_evaluations_total', help: 'Rule evaluations', registers: r, collect() {
      if (evaluations.n) { this.inc(evaluations.n); evaluations.n = 0; }
    } });
    this.ruleMatches = new Counter({ name: 'dockward_rule_matches_total', help: 'Documents matched, by rule (before grouping)', labelNames: ['rule'], registers: r });
    this.detectSkipped = new Counter({ name: 'dockward_detect_skipped_total', help: 'Documents shipped without rule evaluation: their container was over detect.budget_per_container', registers: r });
    this.tamperReports = new Counter({ name: 'dockward_tamper_reports_total', help: 'Interference with dockward\'s inputs seen, by kind (before grouping)', labelNames: ['kind'], registers: r });
    this.alerts = new Counter({ name: 'dockward_alerts_total', help: 'Alert groups opened, by rule', labelNames: ['rule'], registers: r });
    this.internalLogErrors = new Counter({ name: 'dockward_internal_log_errors_total', help: 'Failures of shipping dockward\'s own log to Elasticsearch', registers: r });
    const readBy = this.readBy;
    this.documentsRead = new Counter({ name: 'dockward_documents_read_total', help: 'Documents the collectors read, by data stream dataset', labelNames: ['dataset'], registers: r, collect() {
      for (const c of readBy.values()) if (c.n) { this.inc({ dataset: c.dataset }, c.n); c.n = 0; }
    } });
    // Read when scraped (and by the heartbeat's snapshot), so a retry that never returns still shows its age.
    const self = this;
    this.unackedAge = new Gauge({ name: 'dockward_oldest_unacked_seconds', help: 'Age of the oldest bulk batch Elasticsearch has not answered yet (retries included)', registers: r, collect() { this.set(self.unackedSeconds()); } });
    const health = this.health;
    this.degraded = new Gauge({ name: 'dockward_degraded_components', help: 'Components that report a degradation reason (see /health)', registers: r, collect() { this.set(health.list().length); } });
    this.logLag = new Gauge({ name: 'dockward_log_lag_seconds', help: 'Engine time between the newest line read and the newest acknowledged, per container', labelNames: ['container'], registers: r });
  }

  /** Queue size in bytes, with its peak. */
  setQueueBytes(bytes: number): void {
    this.queueBytes.set(bytes);
    if (bytes > this.peak) {
      this.peak = bytes;
      this.queuePeakBytes.set(bytes);
    }
  }

  /** One document read by a collector, counted by the dataset of its data stream (`logs-<dataset>-<ns>`). */
  countRead(index: string): void {
    let c = this.readBy.get(index);
    if (!c) this.readBy.set(index, (c = { dataset: index.split('-')[1] ?? index, n: 0 }));
    c.n++;
  }

  /** Rules evaluated on one document (dockward_rule_evaluations_total). */
  countRuleEvaluations(n: number): void {
    this.evaluationsPending.n += n;
  }

  /** One container log line read (dockward_log_lines_read_total{stream}). */
  countLine(stream: 'stdout' | 'stderr'): void {
    this.linesPending[stream]++;
  }

  event(name: string, level: 'error' | 'warn' | 'info' | 'debug', message: string, fields: Record<string, unknown> = {}): void {
    this.events.inc({ event: name });
    // After shutdown ended the logger, late events (an async send finishing) are counted only:
    // winston throws "write after end", which would surface in whoever sent the document.
    // (winston's stream is readable-stream's, which has no `writableEnded`.)
    const stream = this.logger as unknown as { writableEnded?: boolean; _writableState?: { ended?: boolean } };
    if (stream.writableEnded ?? stream._writableState?.ended) return;
    this.logger.log(level, message, { event: { action: name }, ...fields });
  }

  /**
   * Counts one more occurrence of an event without logging it: for repeats of an event already
   * logged once, when logging each one would let a flood of bad input flood the log too.
   */
  count(name: string): void {
    this.events.inc({ event: name });
  }

  /** Current value of every counter and gauge, as name{labels} → value (for tests and `status`). */
  async snapshot(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const metric of await this.registry.getMetricsAsJSON()) {
      for (const v of metric.values) {
        const labels = Object.entries(v.labels).map(([k, val]) => `${k}=${val}`).join(',');
        out[labels ? `${metric.name}{${labels}}` : metric.name] = v.value;
      }
    }
    return out;
  }
}
