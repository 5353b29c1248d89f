import type { AttackReport, BenignReport } from './score';

const pct = (k: number, n: number) => (n ? `${Math.round((k / n) * 100)}%` : '-');

/** The compact text the bench prints: recall per tactic, the benign noise, the worst rules, the misses. */
export function formatReport(attacks: AttackReport | undefined, benign: BenignReport | undefined): string {
  const out: string[] = [];
  if (attacks) {
    const t = attacks.total;
    out.push(`attack suite: ${t.n} scenarios, ${t.complete} complete (watermark seen)`);
    out.push(`  ${'tactic'.padEnd(22)} ${'n'.padStart(3)} ${'any'.padStart(9)} ${'right'.padStart(9)} ${'seen'.padStart(9)}`);
    for (const r of attacks.tactics) out.push(`  ${r.tactic.padEnd(22)} ${String(r.n).padStart(3)} ${`${r.any} ${pct(r.any, r.n)}`.padStart(9)} ${`${r.right} ${pct(r.right, r.n)}`.padStart(9)} ${`${r.seen} ${pct(r.seen, r.n)}`.padStart(9)}`);
    out.push(`  ${'overall'.padEnd(22)} ${String(t.n).padStart(3)} ${`${t.any} ${pct(t.any, t.n)}`.padStart(9)} ${`${t.right} ${pct(t.right, t.n)}`.padStart(9)} ${`${t.seen} ${pct(t.seen, t.n)}`.padStart(9)}`);
    out.push('  any: an alert; right: an alert with the technique (or its parent/sub-technique); seen: an alert or a signal with it');
    out.push(`  signal only (no alert): ${t.signalOnly}; alerts on the runner's own marker steps (left out): ${t.harnessAlerts}`);
    const missed = attacks.scenarios.filter((s) => !s.any);
    out.push(`  missed (${missed.length}): ${missed.map((s) => `${s.id} [${s.techniques.join(',')}]${s.complete ? '' : ' (incomplete)'}`).join(', ') || 'none'}`);
    const wrong = attacks.scenarios.filter((s) => s.any && !s.right);
    out.push(`  alerted, other technique (${wrong.length}): ${wrong.map((s) => `${s.id} [${s.techniques.join(',')}] got ${s.alertTechniques.join(',') || 'none'} (${s.rules.join(',')})`).join('; ') || 'none'}`);
  }
  if (benign) {
    out.push(`benign suite: ${benign.containers} containers, ${benign.complete} complete, ${benign.minutes} min each`);
    out.push(`  ${benign.alerts} alerts = ${benign.perContainer.toFixed(2)} per container (target <= 0.05: 1 per 20 containers in 10 min); signals ${benign.signals}`);
    out.push(`  containers with alerts (${benign.noisy.length}): ${benign.noisy.map((n) => `${n.id} ${n.alerts} (${n.rules.join(',')})`).join('; ') || 'none'}`);
    out.push(`  top false-alert rules: ${benign.rules.slice(0, 8).map((r) => `${r.rule} ${r.alerts} on ${r.containers.length} [${r.containers.slice(0, 4).join(',')}${r.containers.length > 4 ? ',…' : ''}]`).join('; ') || 'none'}`);
  }
  return out.join('\n');
}
