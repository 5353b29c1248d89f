/**
 * Log lines per second through the detection engine with the whole built-in pack, on one core:
 * 100-byte lines shaped like container output (access logs, app logs, the odd scanner line).
 *   node dist/bench/detect-throughput.js [lines=300000] [sigma-dir…]
 */
import { performance } from 'node:perf_hooks';
import winston from 'winston';
import { Detector, detectConfig } from '../src/detect/detector';
import { loadAll } from '../src/detect/rule-source';
import type { Rule } from '../src/detect/rules';
import type { Envelope } from '../src/ship/envelope';
import { Telemetry } from '../src/telemetry/telemetry';

function line(i: number): string {
  const kinds = [
    `127.0.0.1 - - [28/Nov/2026:14:05:43 +0000] "GET /api/items/${i} HTTP/1.1" 200 512 "-" "curl/8.5"`,
    `2026-11-28T14:05:43.363Z INFO  worker-3 processed batch ${i} in 12ms (queue depth 4, retries 0)`,
    `level=warn msg="slow request" path=/checkout/${i} duration=1.2s user=u${i % 97} region=eu-west-1`,
    `Nmap scan report for 127.0.0.1 (seen ${i}) - this line must raise the scan-output rule here...`,
  ];
  const s = kinds[i % 50 === 0 ? 3 : i % 3];
  return s.length >= 100 ? s.slice(0, 100) : s.padEnd(100, '.');
}

function pass(rules: Rule[], envs: Envelope[]): { rate: number; alerts: number; evaluations: number } {
  const telemetry = new Telemetry(winston.createLogger({ silent: true }));
  let alerts = 0;
  const detector = new Detector(rules, detectConfig.parse({ window: '1h' }), 'bench', () => alerts++, telemetry);
  for (let i = 0; i < Math.min(envs.length, 20_000); i++) detector.inspect(envs[i]); // warm-up
  const before = metric(telemetry);
  const t0 = performance.now();
  for (const env of envs) detector.inspect(env);
  const secs = (performance.now() - t0) / 1000;
  detector.flush();
  return { rate: Math.round(envs.length / secs), alerts, evaluations: (metric(telemetry) - before) / envs.length };
}

function metric(t: Telemetry): number {
  return (t.ruleEvaluations as unknown as { hashMap: Record<string, { value: number }> }).hashMap['']?.value ?? 0;
}

function main(): void {
  const n = Number(process.argv[2] ?? 300_000);
  const sigma = process.argv.slice(3);
  const { rules, issues } = loadAll({ builtin: true, rules: [], sigma });
  const own = issues.filter((i) => !sigma.some((d) => i.file.startsWith(d)));
  if (own.length) throw new Error(`rule problems: ${own.length}`);
  if (sigma.length) console.log(`Sigma: ${rules.filter((r) => r.id.startsWith('sigma-')).length} rules from ${sigma.join(', ')} (${issues.length} left out as unsupported)`);
  const envs: Envelope[] = Array.from({ length: n }, (_, i) => ({
    index: 'logs-dockward.container-bench',
    id: String(i),
    doc: { message: line(i), stream: 'stdout', container: { id: `c${i % 20}`, name: `c${i % 20}` }, data_stream: { type: 'logs', dataset: 'dockward.container', namespace: 'bench' } },
  }));
  const logRules = rules.filter((r) => r.kinds.includes('log'));
  console.log(`detect-throughput: ${n} lines of 100 bytes, ${rules.length} rules loaded (${logRules.length} apply to log lines, ${logRules.filter((r) => r.prefilter).length} of them prefiltered by literals)`);
  // Same run, same lines: with the prefilter, then every log rule tried on every line.
  const fast = pass(rules, envs);
  const slow = pass(rules.map((r) => ({ ...r, prefilter: undefined })), envs);
  console.log(`  with prefilter:    ${fast.rate} lines/s on one core, ${fast.evaluations.toFixed(2)} rule evaluations per line, ${fast.alerts} alert documents`);
  console.log(`  without prefilter: ${slow.rate} lines/s on one core, ${slow.evaluations.toFixed(2)} rule evaluations per line, ${slow.alerts} alert documents`);
  console.log(`  prefilter speed-up: ${(fast.rate / slow.rate).toFixed(2)}x`);
  if (fast.alerts !== slow.alerts) throw new Error(`the prefilter changed the findings: ${fast.alerts} vs ${slow.alerts} alert documents`);
}

main();
