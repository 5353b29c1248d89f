import type { Client } from '@elastic/elasticsearch';
import type Docker from 'dockerode';
import type { Collector, Output } from './collect/collector';
import { buildCollectors } from './collect/registry';
import type { Config } from './config/schema';
import { EngineEventStream } from './docker/event-stream';
import { connectDocker } from './docker/engine';
import { MetadataCache } from './enrich/metadata';
import { createClient } from './ship/client';
import { ElasticsearchSink } from './ship/elasticsearch-sink';
import type { Envelope } from './ship/envelope';
import { BoundedQueue, type DocumentQueue } from './ship/queue';
import { DiskSpool } from './ship/spool';
import { SplitQueue } from './ship/split-queue';
import { join } from 'node:path';
import { CursorStore } from './state/cursor-store';
import type { Telemetry } from './telemetry/telemetry';
import { Heartbeat } from './telemetry/heartbeat';
import { startHttpServer } from './telemetry/http-server';
import type { Server } from 'node:http';
import { Detector } from './detect/detector';
import { DroppedBinaryCorrelator } from './detect/dropped-binary';
import { RuleSource } from './detect/rule-source';
import { AlertBus } from './notify/alert-bus';
import { Notifier } from './notify/notifier';
import { Responder } from './respond/responder';
import { AnomalyDetector } from './anomaly/detector';
import { ANOMALY_RULE } from './anomaly/alert';
import { TamperSink } from './detect/tamper';
import { containerFields } from './enrich/ecs';
import { RiskScore } from './detect/risk';

/**
 * Builds the parts from a validated config and connects them:
 *   engine ─► collectors ─► (enrich: in the collectors, from one metadata cache) ─► detect ─► queue ─► sink ─► Elasticsearch
 * and acknowledgements flow back from the sink to each collector's cursor.
 */
export class Pipeline {
  readonly docker: Docker;
  readonly client: Client;
  readonly queue: DocumentQueue;
  readonly cursors: CursorStore;
  private readonly events: EngineEventStream;
  private readonly sink: ElasticsearchSink;
  private readonly collectors: Collector[];
  private readonly heartbeat: Heartbeat;
  private readonly detector: Detector | undefined;
  private readonly rules: RuleSource | undefined;
  private readonly correlator: DroppedBinaryCorrelator | undefined;
  private readonly notifier: Notifier | undefined;
  private readonly responder: Responder | undefined;
  private readonly anomaly: AnomalyDetector | undefined;
  private readonly risk: RiskScore | undefined;
  private http: Server | undefined;

  constructor(readonly cfg: Config, readonly telemetry: Telemetry, client?: Client) {
    this.docker = connectDocker(cfg.docker);
    this.client = client ?? createClient(cfg.elasticsearch);
    this.cursors = new CursorStore(cfg.state_dir, telemetry);
    this.queue = buildQueue(cfg, telemetry);
    this.events = new EngineEventStream(this.docker, telemetry);
    this.sink = new ElasticsearchSink(this.client, this.queue, cfg.output, cfg.namespace, telemetry);
    this.heartbeat = new Heartbeat(cfg.heartbeat, this.queue, telemetry, cfg.namespace);
    const queue = this.queue;
    // Alerts: the responder annotates (decision, audit id), the queue takes them, notifiers follow.
    const alerts = new AlertBus(telemetry);
    let tamperSink: TamperSink | undefined;
    if (cfg.respond.enabled) alerts.add((this.responder = new Responder(cfg.respond, cfg.namespace, this.docker, (env) => queue.push(env), telemetry)));
    if (cfg.notify.enabled && Object.keys(cfg.notify.routes).length) alerts.add((this.notifier = new Notifier(cfg.notify, telemetry)));
    if (cfg.detect.enabled) {
      this.rules = new RuleSource(cfg.detect, telemetry, (rules) => this.detector?.setRules(rules));
      // The tamper sink is built below (it needs the metadata cache): bound late.
      if (cfg.detect.risk.enabled) this.risk = new RiskScore(cfg.detect.risk, cfg.state_dir, (rule, env, extra) => this.detector?.raise(rule, env, extra), telemetry);
      const risk = this.risk;
      this.detector = new Detector(this.rules.load(), cfg.detect, cfg.namespace, (env) => alerts.publish(env, (e) => queue.push(e)), telemetry, {
        onPadded: (report) => tamperSink?.report(report),
        onOverBudget: (report) => tamperSink?.report(report),
        // Signals are building blocks: straight to the queue, past the notifiers and the responder.
        emitSignal: (env) => queue.push(env),
        onFinding: risk && ((rule, env) => risk.finding(rule, env)),
      });
      this.correlator = new DroppedBinaryCorrelator();
    }
    const scoreAnomaly = (env: Envelope) => {
      queue.push(env);
      this.risk?.anomaly(env);
    };
    if (cfg.anomaly.enabled) this.anomaly = new AnomalyDetector(cfg.anomaly, cfg.state_dir, cfg.namespace, scoreAnomaly, (env) => this.detector?.raise(ANOMALY_RULE, env), telemetry);
    const detector = this.detector;
    const correlator = this.correlator;
    const anomaly = this.anomaly;
    const output: Output = {
      send: (env: Envelope) => {
        // enrich (correlate) → detect → ship
        telemetry.countRead(env.index);
        correlator?.observe(env);
        detector?.inspect(env);
        queue.push(env);
        // after the push: the anomaly document follows the stats document it scores
        anomaly?.observe(env);
      },
      get writable() {
        return queue.writable;
      },
      whenWritable: () => queue.whenWritable(),
    };
    const metadata = new MetadataCache(this.docker);
    this.events.on('event', (ev) => {
      this.responder?.engineEvent(ev);
      if (ev.Type !== 'container') return;
      if (ev.Action === 'rename' || ev.Action === 'update') void metadata.refresh(ev.Actor.ID).catch(() => undefined);
      if (ev.Action === 'start') anomaly?.started(ev.Actor.ID, Number(ev.nano / 1_000_000n));
      if (ev.Action === 'destroy') {
        metadata.forget(ev.Actor.ID);
        correlator?.forget(ev.Actor.ID);
        anomaly?.forget(ev.Actor.ID);
        this.risk?.forget(ev.Actor.ID);
      }
    });
    const tamper = (tamperSink = new TamperSink(
      cfg.namespace,
      cfg.detect.window,
      async (id) => {
        const meta = id === 'host' ? undefined : await metadata.get(id);
        return meta && containerFields(meta);
      },
      (env) => queue.push(env),
      (rule, env) => detector?.raise(rule, env),
      (kind) => telemetry.tamperReports.inc({ kind }),
    ));
    this.collectors = buildCollectors(cfg.collectors, {
      docker: this.docker, events: this.events, metadata, cursors: this.cursors, output, telemetry, namespace: cfg.namespace,
      tamper: (r) => tamper.report(r),
    });
  }

  async start(): Promise<void> {
    this.http = await startHttpServer(this.cfg.http, this.telemetry, this.sink);
    this.sink.start();
    this.heartbeat.start();
    this.rules?.start();
    this.anomaly?.start();
    this.risk?.start();
    for (const c of this.collectors) await c.start();
    // Replay engine events from the oldest cursor any collector needs (events the engine still holds).
    const since = this.collectors.map((c) => c.eventsSince?.()).filter((s): s is bigint => s !== undefined);
    this.events.start(since.length ? since.reduce((a, b) => (a < b ? a : b)) : undefined);
    this.telemetry.event('pipeline.started', 'info', `dockward running: ${this.collectors.map((c) => c.name).join(', ')} → namespace ${this.cfg.namespace}`);
  }

  /**
   * Stops reading, sends what was read within `timeoutMs`, saves cursors. Every other stage gets
   * `timeoutMs` too and is left behind, named, when it overruns: a restart or an upgrade must never
   * wait on one stuck source (a log follow, a kernel reader) for as long as a container lives.
   */
  async stop(timeoutMs = this.cfg.shutdown_timeout): Promise<void> {
    this.heartbeat.stop();
    this.rules?.stop();
    await this.within('the engine event stream', this.events.stop(), timeoutMs);
    await Promise.all(this.collectors.map((c) => this.within(`the ${c.name} collector`, c.stop(), timeoutMs)));
    if (this.anomaly) await this.within('the anomaly baselines', this.anomaly.stop(), timeoutMs);
    this.detector?.flush();
    this.risk?.stop();
    // Audit documents of actions under way go into the queue before the sink drains it.
    if (this.responder) await this.within('the responder', this.responder.drain(), timeoutMs);
    const notified = this.notifier?.stop();
    const flushed = await this.within('', this.sink.stop(), timeoutMs);
    if (!flushed) this.sink.abandon();
    this.queue.dispose?.();
    this.cursors.flush();
    if (notified) await this.within('the notifier', notified, timeoutMs);
    this.telemetry.event('pipeline.stopped', flushed ? 'info' : 'warn', flushed ? 'dockward stopped; all read documents delivered' : `dockward stopped with ${this.queue.size} documents unsent (they are re-read from the engine next time)`);
    await this.within('the Elasticsearch client', this.client.close(), timeoutMs);
    await this.within('the metrics and health server', new Promise((resolve) => (this.http ? this.http.close(resolve) : resolve(undefined))), timeoutMs);
  }

  /** True when `p` resolved within `ms`; else false, and a warning naming `what` (unless unnamed). */
  private async within(what: string, p: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    const outcome = await Promise.race([
      p.then(() => 'done' as const, (err: Error) => err),
      new Promise<'overrun'>((resolve) => (timer = setTimeout(() => resolve('overrun'), ms))),
    ]);
    clearTimeout(timer);
    if (outcome === 'done') return true;
    if (!what) return false;
    if (outcome === 'overrun') {
      this.telemetry.event('pipeline.stop.overrun', 'warn', `stopping: ${what} had not stopped after ${Math.round(performance.now() - started)} ms; left behind (shutdown_timeout)`);
    } else {
      this.telemetry.event('pipeline.stop.failed', 'warn', `stopping: ${what} failed to stop: ${outcome instanceof Error ? outcome.message : String(outcome)}`);
    }
    return false;
  }
}

/** queue.type and queue.replayable: the spool, the memory queue, or logs through memory beside the spool (split-queue.ts). */
function buildQueue(cfg: Config, telemetry: Telemetry): DocumentQueue {
  const memory = () => new BoundedQueue(cfg.queue.memory.max_docs, cfg.queue.memory.max_bytes);
  if (cfg.queue.type === 'memory') return memory();
  const spool = new DiskSpool(join(cfg.state_dir, 'spool'), cfg.queue.disk, telemetry);
  return cfg.queue.replayable === 'memory' ? new SplitQueue(memory(), spool) : spool;
}
