import { containerFields } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import { deterministicId, type Envelope } from '../ship/envelope';
import { BENCHMARK, SEVERITY_SCORE, type Finding, type Score } from './check';

export const POSTURE_DATASET = 'dockward.posture';

/** One scan: when, why, and the id every document of it derives from. */
export interface ScanStamp {
  /** ISO time of the scan: the documents' @timestamp. */
  time: string;
  /** schedule | startup | create | start | update */
  trigger: string;
  /** Identifies the scan: the engine event's timeNano, or the tick's time — a replayed event gives the same ids. */
  id: string;
}

const OUTCOME = { passed: 'success', failed: 'failure', not_applicable: 'unknown' } as const;

/**
 * A finding as an ECS document: `rule.*` is the benchmark item (ECS's rule fields describe "the
 * rule or signature generating the event"), `event.outcome` mirrors the verdict for ECS-only
 * tools, and what ECS has no field for lives under `dockward.posture.*`. `changed` is true when
 * this verdict differs from the last one dockward saw for the same resource and check (or is the
 * first): the alert rules fire on it, so a standing misconfiguration alerts once, not every scan.
 * Identity: resource, check, scan.
 */
export function findingEnvelope(f: Finding, scan: ScanStamp, index: string, base: Record<string, unknown>, changed: boolean, meta?: ContainerMeta): Envelope {
  const c = f.check;
  return {
    index,
    id: deterministicId(f.resource.type, f.resource.id, c.id, scan.id),
    doc: {
      '@timestamp': scan.time,
      message: `CIS ${c.id} ${f.evaluation.replace('_', ' ')} on ${f.resource.type} ${f.resource.name}: ${c.title} — ${f.evidence}`,
      event: {
        kind: 'state', category: ['configuration'], type: ['info'], action: 'posture_finding', outcome: OUTCOME[f.evaluation],
        severity: SEVERITY_SCORE[c.severity], dataset: POSTURE_DATASET, module: 'dockward', created: new Date().toISOString(),
      },
      rule: { id: c.id, name: c.title, category: c.section, description: c.rationale, reference: BENCHMARK.reference, ruleset: BENCHMARK.name, version: BENCHMARK.version },
      ...(meta ? { container: containerFields(meta) } : {}),
      dockward: {
        posture: {
          evaluation: f.evaluation, severity: c.severity, level: c.level, automated: c.automated, remediation: c.remediation, evidence: f.evidence,
          changed, resource: f.resource, scan: { id: scan.id, trigger: scan.trigger },
        },
      },
      ...base,
    },
  };
}

/** The score of one resource (container, image, daemon) or of the host (every finding of a full scan). */
export function scoreEnvelope(resource: { type: string; id: string; name: string }, score: Score, scan: ScanStamp, index: string, base: Record<string, unknown>, meta?: ContainerMeta): Envelope {
  return {
    index,
    id: deterministicId(resource.type, resource.id, 'score', scan.id),
    doc: {
      '@timestamp': scan.time,
      message: `CIS Docker posture of ${resource.type} ${resource.name}: ${score.percent}% (${score.passed} passed, ${score.failed} failed, ${score.not_applicable} not applicable)`,
      event: { kind: 'metric', category: ['configuration'], type: ['info'], action: 'posture_score', dataset: POSTURE_DATASET, module: 'dockward', created: new Date().toISOString() },
      ...(meta ? { container: containerFields(meta) } : {}),
      dockward: { posture: { resource, score, scan: { id: scan.id, trigger: scan.trigger } } },
      ...base,
    },
  };
}
