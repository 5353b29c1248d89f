import { z } from 'zod';
import { duration } from '../config/units';
import { baseFields } from '../enrich/ecs';
import { deterministicId, streamName, type Envelope } from '../ship/envelope';
import type { Telemetry } from '../telemetry/telemetry';
import type { TamperReport } from '../collect/collector';
import { getter, type Doc } from './condition';
import { threatFields } from './attack';
import { EvaluationBudget } from './budget';
import { fieldView, hidesPadding, inDocument, MATCH_HEAD, MATCH_TAIL, MAX_MATCH, scalarText as text } from './match-window';
import { RuleIndex } from './prefilter';
import { kindOf, type Kind, type Rule } from './rules';
import { riskConfig } from './risk';
import { signalsOpened } from './risk-metrics';

export const detectConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Load the built-in pack (rules/ in the package). */
    builtin: z.boolean().default(true),
    /** More rule files or directories, loaded beside the built-in pack. */
    rules: z.array(z.string()).default([]),
    /** Sigma rule files or directories (searched recursively): linux process_creation, file_event, keywords. */
    sigma: z.array(z.string()).default([]),
    /** How often rule files are checked for changes (0: only on SIGHUP). */
    reload_interval: duration.prefault('5s'),
    /** Findings of one rule on one container within this window make one group. */
    window: duration.prefault('5m'),
    /**
     * Main-thread time each container's documents may spend in rule evaluation per second (bursts
     * up to twice that: a burst is one turn of the event loop at worst); past it they are shipped without detection, counted in
     * dockward_detect_skipped_total and reported as tampering. 0: no limit.
     */
    budget_per_container: duration.prefault('200ms'),
    /** The per-container risk score over signals and alerts, and its threshold alert (docs/rules.md). */
    risk: riskConfig,
  })
  .strict()
  .prefault({});
export type DetectConfig = z.output<typeof detectConfig>;

/** Where each class of finding is written: alerts may page, signals are building blocks (never page, never respond). */
const DATASETS: Record<Rule['class'], string> = { alert: 'dockward.alert', signal: 'dockward.signal' };
/** Elastic's numeric severities for the four names. */
const SEVERITY: Record<Rule['severity'], number> = { low: 21, medium: 47, high: 73, critical: 99 };

export interface DetectorOptions {
  /**
   * A process document whose command line or arguments were longer than the rules match (their
   * middle was not seen): called once per such document with a `cmdline-padding` report, for the
   * pipeline's tamper sink (which groups and alerts per container).
   */
  onPadded?: (report: TamperReport, env: Envelope) => void;
  /** A container's documents exceeded detect.budget_per_container: called for each document shipped without detection. */
  onOverBudget?: (report: TamperReport, env: Envelope) => void;
  /**
   * Signal documents (rules of `class: signal`), kept apart from `emit` so that they reach no
   * notifier and no responder. Without it they go to `emit` (tests that collect every document).
   */
  emitSignal?: (env: Envelope) => void;
  /** Every finding, signal or alert, before grouping (the per-container risk score reads them). */
  onFinding?: (rule: Rule, env: Envelope) => void;
}

/** The fields of a process document whose padding is reported (long log lines are common and benign). */
const PADDED_FIELDS = ['process.command_line', 'process.args'];
const PADDED_GETTERS = PADDED_FIELDS.map((f) => getter(f));

interface Group {
  rule: Rule;
  start: number;
  first: Doc;
  firstEnv: Envelope;
  count: number;
  last: number;
  lastEnv: Envelope;
  timer: NodeJS.Timeout;
  /** Written under `dockward` beside the finding's own fields (a risk alert's `risk`). */
  extra?: Record<string, unknown>;
}

/**
 * Reads every document on its way to the queue and emits alert documents beside it, never
 * holding it up (rules are compiled functions) and never dropping it. Grouping, for an
 * append-only data stream: the first finding of a rule on a container gives an alert at once
 * (count 1); if the same rule fires again on that container within `window`, one summary alert
 * follows when the window closes, with the count and the first and last times. A repeated attack
 * is two documents, not hundreds. Identity: rule, container, window start, first|summary.
 */
export class Detector {
  private readonly byKind = new Map<Kind, RuleIndex<Rule>>();
  private readonly groups = new Map<string, Group>();
  private readonly streams: Record<Rule['class'], { base: Record<string, unknown>; index: string }>;
  private readonly budget: EvaluationBudget;

  constructor(
    rules: Rule[],
    private readonly cfg: DetectConfig,
    namespace: string,
    private readonly emit: (env: Envelope) => void,
    private readonly telemetry: Telemetry,
    private readonly options: DetectorOptions = {},
  ) {
    this.setRules(rules);
    this.budget = new EvaluationBudget(cfg.budget_per_container, cfg.budget_per_container * 2);
    const stream = (ds: string) => ({ base: baseFields('logs', ds, namespace), index: streamName('logs', ds, namespace) });
    this.streams = { alert: stream(DATASETS.alert), signal: stream(DATASETS.signal) };
  }

  /** Replaces the rules; open groups keep counting under their rule id. */
  setRules(rules: Rule[]): void {
    const byKind = new Map<Kind, Rule[]>();
    for (const r of rules.filter((x) => x.enabled)) for (const k of r.kinds) byKind.set(k, [...(byKind.get(k) ?? []), r]);
    this.byKind.clear();
    for (const [k, list] of byKind) this.byKind.set(k, new RuleIndex(list));
  }

  /**
   * Runs the rules of the document's kind on it. Never throws: a rule (or the prefilter) failing on
   * one document is a warning, and the document still goes on. Cost is bounded per document: every
   * field is matched on at most MAX_MATCH characters, cut once and shared by all rules.
   */
  inspect(env: Envelope): void {
    const doc = env.doc;
    let kind: Kind | undefined;
    try {
      kind = kindOf(doc);
    } catch {
      return;
    }
    const index = kind && this.byKind.get(kind);
    if (!index) return;
    const container = containerOf(doc);
    if (!this.budget.allows(container)) {
      this.telemetry.detectSkipped.inc();
      this.options.onOverBudget?.({ container, kind: 'detection-budget', detail: `rule evaluation over ${this.cfg.budget_per_container} ms per second: documents shipped without detection` }, env);
      return;
    }
    const t0 = performance.now();
    inDocument(doc, () => {
      let rules: Rule[];
      try {
        rules = index.candidates(doc);
      } catch (err) {
        // Without the prefilter's answer every rule is tried: a document must not escape detection by breaking it.
        this.telemetry.event('detect.prefilter.error', 'warn', `prefilter failed on ${env.id}: ${(err as Error).message}`);
        rules = index.rules;
      }
      for (const rule of rules) {
        let hit = false;
        try {
          hit = rule.matches(doc);
        } catch (err) {
          this.telemetry.event('detect.rule.error', 'warn', `rule ${rule.id} failed on ${env.id}: ${(err as Error).message}`);
        }
        if (hit) this.safely(rule, env, () => this.finding(rule, env));
      }
      this.telemetry.countRuleEvaluations(rules.length);
      if (kind === 'process' && this.options.onPadded) this.safely(undefined, env, () => this.padded(doc, env));
    });
    this.budget.spend(container, performance.now() - t0);
  }

  /**
   * Reports a process document whose command line or arguments were padded past the match window:
   * an attempt even where canonical spelling collapsed the padding and the rules saw it whole.
   */
  private padded(doc: Doc, env: Envelope): void {
    const cut = PADDED_FIELDS.map((f, i) => ({ field: f, view: fieldView(doc, f, PADDED_GETTERS[i]), i }))
      .filter((x) => x.view.length > MAX_MATCH && hidesPadding(PADDED_GETTERS[x.i](doc)));
    if (cut.length === 0) return;
    const what = cut.map((x) => `${x.field} ${x.view.length} chars${x.view.values.length > 1 ? ` in ${x.view.values.length} values` : ''}`).join(', ');
    const seen = cut.some((x) => x.view.cut) ? `rules matched the first ${MATCH_HEAD} and last ${MATCH_TAIL} only` : 'the padding collapsed in canonical spelling: rules matched it whole';
    this.options.onPadded!({ container: containerOf(doc), kind: 'cmdline-padding', detail: `${what}: ${seen}` }, env);
  }

  private safely(rule: Rule | undefined, env: Envelope, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.telemetry.event('detect.rule.error', 'warn', `${rule ? `alert of rule ${rule.id}` : 'padding report'} failed on ${env.id}: ${(err as Error).message}`);
    }
  }

  /**
   * A finding no rule produced (a sustained anomaly score, a risk score over its threshold),
   * grouped and alerted like a rule's; `extra` is written under `dockward` in its first alert.
   */
  raise(rule: Rule, env: Envelope, extra?: Record<string, unknown>): void {
    this.finding(rule, env, extra);
  }

  /** Closes every open group now (shutdown): summaries are sent rather than lost. */
  flush(): void {
    for (const g of [...this.groups.values()]) this.close(g);
  }

  private finding(rule: Rule, env: Envelope, extra?: Record<string, unknown>): void {
    this.telemetry.ruleMatches.inc({ rule: rule.id });
    this.options.onFinding?.(rule, env);
    const containerId = containerOf(env.doc);
    const key = `${rule.id}\u0000${containerId}`;
    const now = Date.now();
    const g = this.groups.get(key);
    if (g) {
      g.count++;
      g.last = now;
      g.lastEnv = env;
      return;
    }
    const timer = setTimeout(() => this.close(this.groups.get(key)!), this.cfg.window);
    timer.unref();
    const group: Group = { rule, start: now, first: env.doc, firstEnv: env, count: 1, last: now, lastEnv: env, timer, extra };
    this.groups.set(key, group);
    this.send(group, false);
  }

  private send(g: Group, summary: boolean): void {
    if (g.rule.class === 'signal') {
      if (!summary) signalsOpened(this.telemetry).inc({ rule: g.rule.id });
      (this.options.emitSignal ?? this.emit)(this.alert(g, summary));
      return;
    }
    if (!summary) this.telemetry.alerts.inc({ rule: g.rule.id });
    this.emit(this.alert(g, summary));
  }

  private close(g: Group): void {
    clearTimeout(g.timer);
    const containerId = containerOf(g.first);
    this.groups.delete(`${g.rule.id}\u0000${containerId}`);
    if (g.count > 1) this.send(g, true);
  }

  private alert(g: Group, summary: boolean): Envelope {
    const r = g.rule;
    const trigger = summary ? g.lastEnv : g.firstEnv;
    const doc = trigger.doc;
    const container = field(doc, 'container');
    const what = text(field(field(doc, 'process'), 'command_line')) ?? text(field(field(doc, 'file'), 'path')) ?? text(field(doc, 'message')) ?? '';
    const groupId = deterministicId(r.id, containerOf(doc), g.start);
    const stream = this.streams[r.class];
    return {
      index: stream.index,
      id: deterministicId(groupId, summary ? 'summary' : 'first'),
      doc: {
        '@timestamp': new Date(summary ? g.last : g.start).toISOString(),
        message: `${r.name} in ${text(field(container, 'name')) ?? 'the host'}${summary ? ` (${g.count} times)` : ''}: ${what.slice(0, 300)}`,
        event: { kind: r.class, category: ['intrusion_detection'], type: ['info'], severity: SEVERITY[r.severity], risk_score: r.risk_score, dataset: DATASETS[r.class], module: 'dockward', created: new Date().toISOString() },
        rule: { id: r.id, name: r.name, ruleset: 'dockward', version: String(r.version), description: r.description, reference: r.references.length ? r.references : undefined },
        threat: threatFields(r.tactics, r.techniques),
        container: doc.container,
        process: doc.process,
        file: doc.file,
        tags: r.tags.length ? r.tags : undefined,
        dockward: {
          ...g.extra,
          [r.class]: {
            group_id: groupId,
            count: g.count,
            first_seen: new Date(g.start).toISOString(),
            last_seen: new Date(g.last).toISOString(),
            summary,
            severity: r.severity,
            evidence: evidenceOf(r, doc),
            source: { index: trigger.index, id: trigger.id },
            matched: g.rule.explain?.(doc),
          },
        },
        ...stream.base,
      },
    };
  }
}

/** An own property of an object, or undefined (documents carry container-chosen keys and shapes). */
function field(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** The container a document is about, for grouping and reports ('host' when it names none). */
function containerOf(doc: Doc): string {
  return text(field(field(doc, 'container'), 'id')) ?? 'host';
}

/**
 * The kind of document an alert rests on (`dockward.alert.evidence`): the trigger's kind when the
 * rule reads it, else the rule's own kind, the weakest first when it has several (a raised
 * finding's document, an anomaly score or a tamper report, may be of no rule kind). The responder
 * acts only on evidence a remote party cannot forge (src/respond/policy.ts).
 */
export function evidenceOf(rule: Rule, doc: Doc): Kind {
  const k = kindOf(doc);
  if (k && rule.kinds.includes(k)) return k;
  return rule.kinds.find((x) => x === 'log') ?? rule.kinds.find((x) => x === 'stats') ?? rule.kinds[0];
}
