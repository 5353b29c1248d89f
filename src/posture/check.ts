/**
 * The vocabulary of posture checks: one check is one CIS Docker Benchmark recommendation that the
 * Engine API can judge, with the benchmark's own id, and a function from what the engine told us to
 * a verdict with the evidence it rests on. Numbering follows CIS Docker Benchmark v1.6.0 (the
 * version docker-bench-security implements), so verdicts can be compared item by item.
 */

export const BENCHMARK = { name: 'CIS Docker Benchmark', version: '1.6.0', reference: 'https://www.cisecurity.org/benchmark/docker' } as const;

export type Evaluation = 'passed' | 'failed' | 'not_applicable';
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** Elastic's numeric severities (21/47/73/99, as alerts use), plus 0 for info. */
export const SEVERITY_SCORE: Record<Severity, number> = { info: 0, low: 21, medium: 47, high: 73, critical: 99 };

export type ResourceType = 'container' | 'image' | 'daemon';

export interface CheckSpec {
  /** The benchmark's item number, e.g. "5.5". */
  id: string;
  title: string;
  /** Benchmark section, e.g. "5 Container Runtime". */
  section: string;
  /** CIS profile level. */
  level: 1 | 2;
  /** CIS marks items Automated (audit is mechanical) or Manual (needs judgement). */
  automated: boolean;
  severity: Severity;
  rationale: string;
  remediation: string;
  resource: ResourceType;
}

export interface Verdict {
  evaluation: Evaluation;
  /** What was seen, in words an operator can check against `docker inspect`. */
  evidence: string;
}

export interface Check<I> extends CheckSpec {
  evaluate(input: I): Verdict;
}

export interface Resource {
  type: ResourceType;
  id: string;
  name: string;
}

export interface Finding {
  check: CheckSpec;
  resource: Resource;
  evaluation: Evaluation;
  evidence: string;
}

export interface Score {
  passed: number;
  failed: number;
  not_applicable: number;
  total: number;
  /** passed / (passed + failed) × 100, one decimal; 100 when nothing applied. */
  percent: number;
}

export const pass = (evidence: string): Verdict => ({ evaluation: 'passed', evidence });
export const fail = (evidence: string): Verdict => ({ evaluation: 'failed', evidence });
export const notApplicable = (evidence: string): Verdict => ({ evaluation: 'not_applicable', evidence });

/** Runs every check of one resource; a check that throws is a bug, reported as its own evidence. */
export function evaluateAll<I>(checks: Array<Check<I>>, input: I, resource: Resource): Finding[] {
  return checks.map((c) => {
    let v: Verdict;
    try {
      v = c.evaluate(input);
    } catch (err) {
      v = notApplicable(`check could not be evaluated: ${(err as Error).message}`);
    }
    const { evaluate: _e, ...check } = c;
    return { check, resource, ...v };
  });
}

export function scoreOf(findings: Finding[]): Score {
  const n = (e: Evaluation) => findings.filter((f) => f.evaluation === e).length;
  const passed = n('passed');
  const failed = n('failed');
  const judged = passed + failed;
  return { passed, failed, not_applicable: n('not_applicable'), total: findings.length, percent: judged ? Math.round((passed / judged) * 1000) / 10 : 100 };
}

export function severityAtLeast(s: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(threshold);
}

/** Benchmark ids compare as version numbers: 5.2 < 5.10. */
export function compareIds(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}
