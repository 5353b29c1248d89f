/**
 * The alert a risk score over its threshold raises: filed under one rule id like every other
 * alert (grouped, notified, audited), with the union of the contributors' ATT&CK techniques and
 * tactics, and a message and `dockward.risk` fields that name what led there.
 */
import type { Envelope } from '../ship/envelope';
import type { Rule } from './rules';
import type { Contributor } from './risk-book';

export const RISK_RULE_ID = 'dockward-risk-threshold';

/** Contributors listed in the alert's fields (the message names fewer: it is cut at 300 characters). */
export const LISTED_CONTRIBUTORS = 10;
const NAMED_IN_MESSAGE = 5;

export const RISK_RULE: Rule = {
  id: RISK_RULE_ID,
  name: 'Container risk score over its threshold',
  description:
    'Signals (building blocks, normal one at a time) and alerts on one container added up, weighted by their risk scores and decaying over detect.risk.half_life, to detect.risk.threshold: together they look like an intrusion. The alert names the contributors, with counts and first and last times.',
  severity: 'high',
  class: 'alert',
  risk_score: 73,
  tactics: [],
  techniques: [],
  enabled: true,
  tags: ['risk'],
  references: ['https://www.elastic.co/guide/en/security/current/building-block-rule.html'],
  version: 1,
  examples: { match: [], no_match: [] } as unknown as Rule['examples'],
  // A risk alert rests on its weakest evidence: some of it may come from log lines or scores a
  // client of the service can drive, so the responder treats it as it treats a log alert.
  kinds: ['log'],
  file: '(built in: risk score)',
  matches: () => false,
};

type Listed = Contributor & { points: number };

const iso = (ms: number) => new Date(ms).toISOString();
const round = (x: number) => Math.round(x * 10) / 10;

/** The rule of one crossing: the risk rule with the contributors' techniques and tactics. */
export function crossingRule(all: Contributor[]): Rule {
  const union = (pick: (c: Contributor) => string[]) => [...new Set(all.flatMap(pick))].sort();
  return { ...RISK_RULE, techniques: union((c) => c.techniques), tactics: union((c) => c.tactics) };
}

/**
 * The document the crossing is raised on (the detector builds the alert from it) and the fields
 * written under `dockward.risk`. `container`: the ECS container fields of the finding that crossed.
 */
export function crossingEvidence(o: {
  score: number; threshold: number; rearm: number; container: unknown; listed: Listed[]; all: Contributor[]; index: string; id: string;
}): { env: Envelope; risk: Record<string, unknown> } {
  const findings = o.all.reduce((n, c) => n + c.count, 0);
  const named = o.listed.slice(0, NAMED_IN_MESSAGE).map((c) => `${c.id} ${c.count}× (${round(c.points)})`).join(', ');
  const more = o.all.length > NAMED_IN_MESSAGE ? ` and ${o.all.length - NAMED_IN_MESSAGE} more` : '';
  const message = `score ${round(o.score)} ≥ ${o.threshold} from ${findings} findings of ${o.all.length} rules: ${named}${more}`;
  const anomaly = o.all.find((c) => c.cls === 'anomaly');
  const risk = {
    score: round(o.score),
    threshold: o.threshold,
    rearm: o.rearm,
    findings,
    contributors_total: o.all.length,
    anomaly: anomaly ? round(o.listed.find((c) => c.id === anomaly.id)?.points ?? 0) : undefined,
    first_seen: iso(Math.min(...o.all.map((c) => c.first))),
    last_seen: iso(Math.max(...o.all.map((c) => c.last))),
    contributors: o.listed.map((c) => ({
      rule_id: c.id, rule_name: c.name, class: c.cls, severity: c.severity, techniques: c.techniques,
      count: c.count, points: round(c.points), first_seen: iso(c.first), last_seen: iso(c.last),
    })),
  };
  return { env: { index: o.index, id: o.id, doc: { message, container: o.container } }, risk };
}
