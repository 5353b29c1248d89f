/**
 * Scores every container continuously from the documents on their way to the queue: process,
 * exec and log documents are counted, and each stats document closes an interval, is scored by the
 * container's model and gives one document in metrics-dockward.anomaly-<ns>. A score at or over
 * the threshold for `sustain` intervals in a row, once the model is warm, is a finding handed to
 * the rule detector's grouping (first alert at once, one summary per window).
 */
import cron, { type ScheduledTask } from 'node-cron';
import { z } from 'zod';
import { baseFields } from '../enrich/ecs';
import { deterministicId, streamName, type Envelope } from '../ship/envelope';
import type { Telemetry } from '../telemetry/telemetry';
import { ContainerModel, modelConfig } from './model';
import { SignalAccumulator } from './signals';
import { ModelStore } from './store';

export const anomalyConfig = z
  .object({
    enabled: z.boolean().default(true),
    model: modelConfig,
    /**
     * score (0–100) at or over which an interval counts toward an alert: NAB's optimiser picks
     * 0.466 for the core on its standard profile (a likelihood tail of about 2×10⁻⁵)
     */
    threshold: z.number().min(0).max(100).default(46.6),
    /**
     * intervals in a row at or over the threshold before an alert. 1: the likelihood already
     * judges a 7-interval average against the signal's own history, so one interval is a finding
     */
    sustain: z.number().int().min(1).default(1),
    /**
     * intervals after a container starts (or restarts) whose scores are written and learned from
     * but marked not warm and never alerted: its entrypoint's processes and first log lines are
     * start-up, not behaviour — a re-created container of a known image starts from that image's
     * running baseline, which never saw a start
     */
    settle: z.number().int().min(0).default(3),
    /** when learned baselines are written to <state_dir>/anomaly-models/ (also at shutdown) */
    persist_schedule: z
      .string()
      .refine((v) => cron.validate(v), 'not a valid cron expression (six fields with seconds, or five)')
      .default('0 */5 * * * *'),
  })
  .strict()
  .prefault({});
export type AnomalyConfig = z.output<typeof anomalyConfig>;

export const ANOMALY_DATASET = 'dockward.anomaly';
export const ANOMALY_RULE_ID = 'dockward-anomaly-score';

type Doc = Record<string, unknown>;
interface Entry {
  image: string;
  model: ContainerModel;
  signals: SignalAccumulator;
  from: 'container' | 'image' | 'new';
  streak: number;
  lastScore: number;
  /** intervals left in which the container is settling after a start */
  settle: number;
}

export class AnomalyDetector {
  private readonly entries = new Map<string, Entry>();
  private readonly store: ModelStore;
  private readonly index: string;
  private readonly base: Record<string, unknown>;
  private task: ScheduledTask | undefined;
  /** containers that started before their first document reached the detector */
  private readonly starting = new Set<string>();

  constructor(
    private readonly cfg: AnomalyConfig,
    stateDir: string,
    namespace: string,
    private readonly emit: (env: Envelope) => void,
    /** a sustained anomaly: the anomaly document that crossed, to be grouped and alerted */
    private readonly raise: (env: Envelope) => void,
    private readonly telemetry: Telemetry,
  ) {
    this.store = new ModelStore(stateDir, telemetry);
    this.index = streamName('metrics', ANOMALY_DATASET, namespace);
    this.base = baseFields('metrics', ANOMALY_DATASET, namespace);
  }

  start(): void {
    // an unusable file was moved aside and said so by the store
    const r = this.store.load();
    if (!r.quarantined) this.telemetry.event('anomaly.restored', 'info', `anomaly baselines restored: ${r.containers} containers, ${r.images} images`);
    this.task = cron.schedule(this.cfg.persist_schedule, () => this.persist(), { noOverlap: true, name: 'dockward-anomaly-persist' });
  }

  /** Stops the schedule and writes what learned since the last save. */
  stop(): Promise<void> {
    void this.task?.stop();
    return this.persist();
  }

  /**
   * A container started or restarted (engine event, `atMs` its time). A start replayed after a
   * restart of dockward that the saved baseline already lived through is no start-up to settle.
   */
  started(containerId: string, atMs = Infinity): void {
    // Whether or not its first document came first: savedAt is the file's time at load, so no start
    // of this run is before it.
    const savedAt = this.store.savedAt(containerId);
    if (savedAt !== undefined && atMs <= savedAt) return;
    const e = this.entries.get(containerId);
    if (e) e.settle = this.cfg.settle;
    else this.starting.add(containerId);
  }

  forget(containerId: string): void {
    this.starting.delete(containerId);
    this.entries.delete(containerId);
    this.store.forget(containerId);
  }

  observe(env: Envelope): void {
    const doc = env.doc;
    const ds = (doc.data_stream as { dataset?: string } | undefined)?.dataset;
    if (ds !== 'dockward.stats' && ds !== 'dockward.process' && ds !== 'dockward.container' && ds !== 'dockward.file') return;
    const container = doc.container as { id?: string; image?: { name?: string } } | undefined;
    if (!container?.id) return;
    const e = this.entry(container.id, container.image?.name ?? '');
    if (ds === 'dockward.process') e.signals.countProcess(doc);
    else if (ds === 'dockward.container') e.signals.countLog(doc);
    else if (ds === 'dockward.file') e.signals.countFile(doc);
    else this.interval(e, doc, container.id);
  }

  private entry(id: string, image: string): Entry {
    let e = this.entries.get(id);
    if (!e) {
      const found = this.store.lookup(id, image);
      const saved = found && ContainerModel.restorable(found.model) ? found : undefined;
      e = { image, model: new ContainerModel(this.cfg.model, saved?.model), signals: new SignalAccumulator(), from: saved?.from ?? 'new', streak: 0, lastScore: 0, settle: this.starting.delete(id) ? this.cfg.settle : 0 };
      this.entries.set(id, e);
    }
    return e;
  }

  private interval(e: Entry, stats: Doc, containerId: string): void {
    const v = e.signals.fromStats(stats);
    if (!v) return;
    const s = e.model.update(v);
    const warm = s.warm && e.settle === 0;
    if (e.settle > 0) e.settle--;
    e.lastScore = s.score;
    e.streak = warm && s.score >= this.cfg.threshold ? e.streak + 1 : 0;
    const c = stats.container as Record<string, unknown>;
    const env: Envelope = {
      index: this.index,
      id: deterministicId(containerId, String(stats['@timestamp']), 'anomaly'),
      doc: {
        '@timestamp': stats['@timestamp'],
        message: s.explanation,
        event: { kind: 'metric', category: ['host'], type: ['info'], dataset: ANOMALY_DATASET, module: 'dockward', created: new Date().toISOString() },
        container: { id: c.id, name: c.name, image: c.image, labels: c.labels, runtime: c.runtime },
        dockward: {
          anomaly: {
            score: s.score,
            warm,
            top: s.top,
            explanation: s.explanation,
            threshold: this.cfg.threshold,
            streak: e.streak,
            samples: e.model.sampleCount,
            baseline_from: e.from,
            signals: s.signals,
          },
        },
        ...this.base,
      },
    };
    this.emit(env);
    if (e.streak >= this.cfg.sustain) this.raise(env);
  }

  private saving: Promise<void> = Promise.resolve();

  /** One save at a time: a scheduled one still writing when shutdown saves is waited for. */
  private persist(): Promise<void> {
    this.saving = this.saving.then(async () => {
      try {
        const live = [...this.entries].map(([id, e]) => ({ id, image: e.image, samples: e.model.sampleCount, calm: e.streak === 0 && e.lastScore < this.cfg.threshold, snapshot: () => e.model.snapshot(), live: () => this.entries.get(id) === e }));
        await this.store.save(live);
      } catch (err) {
        this.telemetry.event('anomaly.persist.failed', 'warn', `anomaly baselines not saved to ${this.store.dir}: ${(err as Error).message}`);
      }
    });
    return this.saving;
  }
}
