/**
 * Per-container risk, as Elastic's entity risk scoring does it over building-block alerts: every
 * finding on a container (signals and alerts, weighted by the rule's risk_score) and its anomaly
 * score add points that decay with a half-life; when the sum crosses the threshold, ONE alert
 * (dockward-risk-threshold) names the findings that led there. The arithmetic is risk-book.ts;
 * this file feeds it, raises its crossings and saves it.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { ANOMALY_RULE_ID } from '../anomaly/detector';
import { duration } from '../config/units';
import type { Envelope } from '../ship/envelope';
import type { Telemetry } from '../telemetry/telemetry';
import { crossingEvidence, crossingRule, LISTED_CONTRIBUTORS, RISK_RULE_ID } from './risk-alert';
import { RiskBook, type Addition } from './risk-book';
import { riskMetrics, type RiskMetrics } from './risk-metrics';
import { RiskStore } from './risk-store';
import type { Rule } from './rules';

export const riskConfig = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * Points at which a container's risk alert is raised. A finding adds its rule's risk_score
     * (low 21, medium 47, high 73, critical 99 in the built-in pack); a repeat of the same rule
     * refreshes its points instead of adding them, so 100 takes two or three different findings.
     */
    threshold: z.number().positive().max(1e5).default(100),
    /** The score must fall under this (by decay) before the container can raise another risk alert. */
    rearm: z.number().min(0).max(1e5).default(50),
    /** A finding's points halve every half_life after it was last seen. */
    half_life: duration.prefault('30m'),
    /** Weights of signal and alert findings (points = weight × risk_score). */
    signal_weight: z.number().min(0).max(10).default(1),
    alert_weight: z.number().min(0).max(10).default(1),
    /** Points of a warm anomaly score (0–100): weight × score, one contributor refreshed per interval. */
    anomaly_weight: z.number().min(0).max(10).default(0.5),
    /** Containers held (the least recently scored one is dropped past it, counted). */
    max_containers: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Contributors held per container (the one worth least is dropped past it, counted). */
    max_contributors: z.number().int().min(1).max(1000).default(32),
    /** How often scores are saved to <state_dir>/risk-scores.json (also at shutdown); 0: only at shutdown. */
    persist_interval: duration.prefault('1m'),
  })
  .strict()
  .refine((c) => c.rearm < c.threshold, { message: 'rearm must be lower than threshold (the score has to fall back before the next alert)', path: ['rearm'] })
  .prefault({});
export type RiskConfig = z.output<typeof riskConfig>;

type Doc = Record<string, unknown>;
const obj = (v: unknown): Doc | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : undefined);

/** Rules whose findings do not feed the score: its own alert, and the anomaly alert (the score itself is fed). */
const NOT_FED = new Set([RISK_RULE_ID, ANOMALY_RULE_ID]);

export class RiskScore {
  private readonly book: RiskBook;
  private readonly store: RiskStore;
  private readonly metrics: RiskMetrics;
  private timer: NodeJS.Timeout | undefined;
  private evicted = { containers: 0, contributors: 0 };
  /** Something changed since the last save: an idle host does not rewrite the file every interval. */
  private dirty = false;
  /**
   * The document each container last scored and the points it gave: one command matched by two
   * rules of one behaviour (`uname -a`: exec-recon and discovery-system-info) counts once, at its
   * strongest rule, so overlapping rules cannot add up to a page on their own.
   */
  private readonly lastDoc = new Map<string, { doc: string; points: number }>();
  private lastSize = -1;
  /** Label children looked up once: a labelled inc() hashes its labels on every call. */
  private readonly byClass: Partial<Record<Addition['cls'], { inc(): void }>> = {};

  constructor(
    private readonly cfg: RiskConfig,
    stateDir: string,
    /** A crossing: the rule (techniques of its contributors), the evidence document, fields for `dockward.risk`. */
    private readonly raise: (rule: Rule, env: Envelope, extra: Record<string, unknown>) => void,
    private readonly telemetry: Telemetry,
    private readonly now: () => number = Date.now,
  ) {
    this.book = new RiskBook({ threshold: cfg.threshold, rearm: cfg.rearm, halfLifeMs: cfg.half_life, maxContainers: cfg.max_containers, maxContributors: cfg.max_contributors });
    this.store = new RiskStore(join(stateDir, 'risk-scores.json'), telemetry);
    this.metrics = riskMetrics(telemetry);
  }

  start(): void {
    const saved = this.store.load();
    const now = this.now();
    for (const c of saved) this.book.restore(c, now);
    this.count();
    if (saved.length) this.telemetry.event('risk.restored', 'info', `risk scores restored: ${this.book.size} containers`);
    if (this.cfg.persist_interval > 0) {
      this.timer = setInterval(() => this.persist(), this.cfg.persist_interval);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.persist();
  }

  /** The container's current score (for tests and status). */
  score(containerId: string): number {
    return this.book.score(containerId, this.now());
  }

  /** A rule's finding (every match, before grouping): signals and alerts alike. */
  finding(rule: Rule, env: Envelope): void {
    if (NOT_FED.has(rule.id)) return;
    const container = obj(env.doc.container);
    const id = typeof container?.id === 'string' ? container.id : undefined;
    // Host-wide findings (engine posture, no container) have no container to accumulate on.
    if (!id) return;
    const weight = rule.class === 'signal' ? this.cfg.signal_weight : this.cfg.alert_weight;
    const points = weight * rule.risk_score;
    const last = this.lastDoc.get(id);
    const sameDoc = last !== undefined && last.doc === env.id;
    if (sameDoc && points <= last.points) return;
    this.lastDoc.delete(id);
    // Bounded like the book: one entry per container, the oldest forgotten first.
    if (this.lastDoc.size >= this.cfg.max_containers) this.lastDoc.delete(this.lastDoc.keys().next().value as string);
    this.lastDoc.set(id, { doc: env.id, points });
    this.add(id, container, { id: rule.id, name: rule.name, cls: rule.class, severity: rule.severity, techniques: rule.techniques, tactics: rule.tactics, points: sameDoc ? points - last.points : points }, env);
  }

  /** An anomaly document (metrics-dockward.anomaly): a warm score adds its weighted points. */
  anomaly(env: Envelope): void {
    const a = obj(obj(env.doc.dockward)?.anomaly);
    const container = obj(env.doc.container);
    const id = typeof container?.id === 'string' ? container.id : undefined;
    if (!id || a?.warm !== true || typeof a.score !== 'number' || !Number.isFinite(a.score)) return;
    const points = this.cfg.anomaly_weight * Math.min(100, Math.max(0, a.score));
    if (points < 1) return;
    this.add(id, container, { id: 'anomaly', name: `anomaly score (${String(a.top ?? 'all signals')})`, cls: 'anomaly', severity: 'medium', techniques: [], tactics: [], points }, env);
  }

  forget(containerId: string): void {
    this.book.forget(containerId);
    this.dirty = true;
    this.count();
  }

  private add(id: string, container: Doc | undefined, add: Addition, env: Envelope): void {
    const now = this.now();
    (this.byClass[add.cls] ??= this.metrics.findings.labels(add.cls)).inc();
    const crossing = this.book.add(id, add, now);
    this.dirty = true;
    this.count();
    if (!crossing) return;
    const all = [...crossing.container.contributors.values()];
    const listed = this.book.top(crossing.container, now, LISTED_CONTRIBUTORS);
    // The alert's source is the document whose finding crossed the threshold: an analyst following
    // dockward.alert.source lands on it (a made-up id pointed at nothing).
    const evidence = crossingEvidence({
      score: crossing.score, threshold: this.cfg.threshold, rearm: this.cfg.rearm, container, listed, all,
      index: env.index, id: env.id,
    });
    this.metrics.alerts.inc();
    this.raise(crossingRule(all), evidence.env, { risk: evidence.risk });
  }

  /** Keeps the gauge and the eviction counters in step with the book. */
  private count(): void {
    if (this.book.size !== this.lastSize) this.metrics.containers.set((this.lastSize = this.book.size));
    const dc = this.book.evictedContainers - this.evicted.containers;
    const dk = this.book.evictedContributors - this.evicted.contributors;
    if (dc > 0) this.metrics.evicted.inc({ what: 'container' }, dc);
    if (dk > 0) this.metrics.evicted.inc({ what: 'contributor' }, dk);
    this.evicted = { containers: this.book.evictedContainers, contributors: this.book.evictedContributors };
  }

  private persist(): void {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      this.store.save(this.book.entries());
    } catch (err) {
      this.dirty = true;
      this.telemetry.event('risk.persist.failed', 'warn', `risk scores not saved to ${this.store.file}: ${(err as Error).message}`);
    }
  }
}
