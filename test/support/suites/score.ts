import type { AlertDoc } from './evidence';
import type { Outcome } from './runner';
import { TACTICS, type AttackScenario, type Tactic } from './scenarios';

/**
 * The suites' figures, from outcomes alone (no engine): per-scenario detection, per-tactic recall,
 * benign alerts per container and which rules fired where.
 */
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * The techniques an alert names. ECS nests sub-techniques under their parent, so a parent that
 * only stands for its sub-techniques is dropped: a T1059.004 rule must not pass for T1059.006.
 */
export function alertTechniques(a: AlertDoc): string[] {
  const subs = list(a.threat?.technique?.subtechnique?.id);
  const parents = list(a.threat?.technique?.id).filter((p) => !subs.some((s) => s.startsWith(`${p}.`)));
  return [...parents, ...subs];
}

/** Same technique, or one is the other's parent (T1059 and T1059.004); siblings do not match. */
export function techniqueMatches(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

export interface ScenarioScore {
  id: string;
  tactic: Tactic;
  techniques: string[];
  complete: boolean;
  any: boolean;
  right: boolean;
  /** An alert or a signal carries the scenario's technique (the issue's ≥ 90 % figure). */
  seen: boolean;
  /** Seen only as signals (building blocks), no alert. */
  signalOnly: boolean;
  rules: string[];
  alertTechniques: string[];
}

export interface TacticScore {
  tactic: Tactic;
  n: number;
  any: number;
  right: number;
  seen: number;
}

export interface AttackReport {
  scenarios: ScenarioScore[];
  tactics: TacticScore[];
  total: TacticScore & { complete: number; signalOnly: number; harnessAlerts: number };
}

export function scoreAttacks(scenarios: AttackScenario[], outcomes: Outcome[]): AttackReport {
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const scored: ScenarioScore[] = scenarios.map((s) => {
    const o = byId.get(s.id);
    const alerts = o?.alerts ?? [];
    const techs = [...new Set(alerts.flatMap(alertTechniques))];
    const right = techs.some((t) => s.techniques.some((w) => techniqueMatches(t, w)));
    const seen = right || (o?.signals ?? []).flatMap(alertTechniques).some((t) => s.techniques.some((w) => techniqueMatches(t, w)));
    return {
      id: s.id,
      tactic: s.tactic,
      techniques: s.techniques,
      complete: o?.complete ?? false,
      any: alerts.length > 0,
      right,
      seen,
      signalOnly: alerts.length === 0 && (o?.signals.length ?? 0) > 0,
      rules: [...new Set(alerts.map((a) => a.rule?.id ?? '?'))].sort(),
      alertTechniques: techs.sort(),
    };
  });
  const tactics = TACTICS.map((tactic) => {
    const of = scored.filter((s) => s.tactic === tactic);
    return { tactic, n: of.length, any: of.filter((s) => s.any).length, right: of.filter((s) => s.right).length, seen: of.filter((s) => s.seen).length };
  }).filter((t) => t.n > 0);
  return {
    scenarios: scored,
    tactics,
    total: {
      tactic: 'execution',
      n: scored.length,
      any: scored.filter((s) => s.any).length,
      right: scored.filter((s) => s.right).length,
      seen: scored.filter((s) => s.seen).length,
      complete: scored.filter((s) => s.complete).length,
      signalOnly: scored.filter((s) => s.signalOnly).length,
      harnessAlerts: outcomes.reduce((a, o) => a + o.harnessAlerts, 0),
    },
  };
}

export interface BenignReport {
  containers: number;
  complete: number;
  minutes: number;
  /** Alert groups (a first alert and its summary are one) in the window, over all containers. */
  alerts: number;
  perContainer: number;
  noisy: Array<{ id: string; alerts: number; rules: string[] }>;
  rules: Array<{ rule: string; alerts: number; containers: string[] }>;
  signals: number;
}

/** One alert group per rule and container: the summary of a repeat is not a second alert. */
function groups(alerts: AlertDoc[]): Map<string, AlertDoc> {
  const g = new Map<string, AlertDoc>();
  for (const a of alerts) {
    const key = a.dockward?.alert?.group_id ?? a._id;
    if (!g.has(key) || !a.dockward?.alert?.summary) g.set(key, a);
  }
  return g;
}

export function scoreBenign(outcomes: Outcome[], minutes: number): BenignReport {
  const rules = new Map<string, { alerts: number; containers: Set<string> }>();
  const noisy: BenignReport['noisy'] = [];
  let alerts = 0;
  let signals = 0;
  for (const o of outcomes) {
    const g = [...groups(o.alerts).values()];
    alerts += g.length;
    signals += groups(o.signals).size;
    if (g.length) noisy.push({ id: o.id, alerts: g.length, rules: [...new Set(g.map((a) => a.rule?.id ?? '?'))].sort() });
    for (const a of g) {
      const r = rules.get(a.rule?.id ?? '?') ?? { alerts: 0, containers: new Set<string>() };
      r.alerts++;
      r.containers.add(o.id);
      rules.set(a.rule?.id ?? '?', r);
    }
  }
  return {
    containers: outcomes.length,
    complete: outcomes.filter((o) => o.complete).length,
    minutes,
    alerts,
    perContainer: outcomes.length ? alerts / outcomes.length : 0,
    noisy: noisy.sort((a, b) => b.alerts - a.alerts || a.id.localeCompare(b.id)),
    rules: [...rules].map(([rule, r]) => ({ rule, alerts: r.alerts, containers: [...r.containers].sort() })).sort((a, b) => b.alerts - a.alerts || a.rule.localeCompare(b.rule)),
    signals,
  };
}
