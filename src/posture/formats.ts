import { styleText } from 'node:util';
import { VERSION } from '../version';
import { BENCHMARK, compareIds, type Evaluation, type Finding, type Severity } from './check';
import type { ScanReport } from './scan';

export const FORMATS = ['table', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

/** The JSON form: stable keys, one finding per check and resource, for scripts and CI. */
export function toJson(r: ScanReport): Record<string, unknown> {
  return {
    benchmark: { name: BENCHMARK.name, version: BENCHMARK.version },
    scanned_at: r.time,
    host: r.host,
    engine: r.engine,
    score: r.score,
    resources: r.resources.map((x) => ({ ...x.resource, score: x.score })),
    findings: r.findings.map((f) => ({
      id: f.check.id, title: f.check.title, section: f.check.section, level: f.check.level, automated: f.check.automated, severity: f.check.severity,
      resource: f.resource, evaluation: f.evaluation, evidence: f.evidence, rationale: f.check.rationale, remediation: f.check.remediation,
    })),
  };
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub code scanning ranks by this property: >9 critical, 7–8.9 high, 4–6.9 medium, below low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };
const SARIF_KIND: Record<Evaluation, 'fail' | 'pass' | 'notApplicable'> = { failed: 'fail', passed: 'pass', not_applicable: 'notApplicable' };

export const sarifRuleId = (id: string) => `CIS-Docker-${id}`;

/**
 * SARIF 2.1.0: one rule per benchmark item, one result per finding. Passed and not-applicable
 * findings are kept as kind pass / notApplicable with level none, so the log is the whole audit;
 * viewers that only show problems filter on kind fail. Resources are not files: each result
 * names its container, image or daemon as a logical location and as a `docker:` URI.
 */
export function toSarif(r: ScanReport): Record<string, unknown> {
  const specs = new Map<string, Finding['check']>();
  for (const f of r.findings) if (!specs.has(f.check.id)) specs.set(f.check.id, f.check);
  const ids = [...specs.keys()].sort(compareIds);
  const index = new Map(ids.map((id, i) => [id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'dockward', version: VERSION, informationUri: 'https://github.com/dockward/dockward',
          rules: ids.map((id) => {
            const c = specs.get(id)!;
            return {
              id: sarifRuleId(id), name: c.title, shortDescription: { text: `${id} ${c.title}` }, fullDescription: { text: c.rationale },
              help: { text: c.remediation }, helpUri: BENCHMARK.reference,
              defaultConfiguration: { level: SARIF_LEVEL[c.severity] },
              properties: { 'security-severity': SECURITY_SEVERITY[c.severity], severity: c.severity, cis_level: c.level, automated: c.automated, section: c.section, tags: ['security', 'cis-docker', `cis-docker-${BENCHMARK.version}`] },
            };
          }),
        },
      },
      invocations: [{ executionSuccessful: true, endTimeUtc: r.time, machine: r.host }],
      results: r.findings.map((f) => ({
        ruleId: sarifRuleId(f.check.id),
        ruleIndex: index.get(f.check.id),
        kind: SARIF_KIND[f.evaluation],
        level: f.evaluation === 'failed' ? SARIF_LEVEL[f.check.severity] : 'none',
        message: { text: `${f.evaluation === 'failed' ? 'Failed' : f.evaluation === 'passed' ? 'Passed' : 'Not applicable'}: ${f.check.title} — ${f.evidence} (${f.resource.type} ${f.resource.name})` },
        locations: [{
          physicalLocation: { artifactLocation: { uri: `docker:${f.resource.type}/${encodeURIComponent(f.resource.name)}` } },
          logicalLocations: [{ name: f.resource.name, fullyQualifiedName: `${f.resource.type}/${f.resource.id}`, kind: f.resource.type }],
        }],
        partialFingerprints: { 'dockwardFinding/v1': `${f.resource.type}/${f.resource.id}/${f.check.id}` },
        properties: { evaluation: f.evaluation, severity: f.check.severity, evidence: f.evidence },
      })),
    }],
  };
}

const VERDICT: Record<Evaluation, { text: string; color: 'red' | 'green' | 'gray' }> = {
  failed: { text: 'FAIL', color: 'red' }, passed: { text: 'PASS', color: 'green' }, not_applicable: { text: 'N/A', color: 'gray' },
};

/**
 * One block per resource (daemon, containers, images) with its score, then one line per check:
 * verdict, severity, id, title, evidence, cut to the terminal's width. Colour only when asked
 * (the caller knows whether stdout is a terminal and whether NO_COLOR is set).
 */
export function toTable(r: ScanReport, opts: { color: boolean; width: number; failedOnly?: boolean }): string {
  // validateStream off: the caller has decided (styleText would otherwise drop colour whenever stdout is not a terminal, --color included).
  const paint = (color: Parameters<typeof styleText>[0], s: string) => (opts.color ? styleText(color, s, { validateStream: false }) : s);
  const lines: string[] = [];
  const s = r.score;
  lines.push(`${BENCHMARK.name} v${BENCHMARK.version} on ${r.host} (engine ${r.engine.version}, API ${r.engine.api}) at ${r.time}`);
  for (const res of r.resources) {
    const findings = res.findings.filter((f) => !opts.failedOnly || f.evaluation === 'failed');
    if (!findings.length) continue;
    lines.push('');
    const name = res.resource.type === 'daemon' ? res.resource.name : `${res.resource.name} (${res.resource.id.replace(/^sha256:/, '').slice(0, 12)})`;
    lines.push(paint('bold', `${res.resource.type} ${name}: score ${res.score.percent}% (${res.score.passed} passed, ${res.score.failed} failed, ${res.score.not_applicable} n/a)`));
    for (const f of [...findings].sort((a, b) => compareIds(a.check.id, b.check.id))) {
      const v = VERDICT[f.evaluation];
      const head = `${f.check.severity.padEnd(8)}  ${f.check.id.padEnd(5)}  `;
      const rest = `${f.check.title} — ${f.evidence}`;
      const room = Math.max(20, opts.width - 8 - head.length); // 8: indent and verdict column
      lines.push(`  ${paint(v.color, v.text.padEnd(4))}  ${head}${rest.length > room ? `${rest.slice(0, room - 1)}…` : rest}`);
    }
  }
  lines.push('');
  lines.push(`host score ${s.percent}%: ${s.passed} passed, ${s.failed} failed, ${s.not_applicable} not applicable over ${r.resources.length} resources`);
  const bySeverity = (['critical', 'high', 'medium', 'low', 'info'] as const)
    .map((sev) => [sev, r.findings.filter((f) => f.evaluation === 'failed' && f.check.severity === sev).length] as const)
    .filter(([, n]) => n > 0);
  if (bySeverity.length) lines.push(`failed by severity: ${bySeverity.map(([sev, n]) => `${sev} ${n}`).join(', ')}`);
  return lines.join('\n') + '\n';
}
