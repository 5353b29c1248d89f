/**
 * Rule evaluation cost per document with the whole built-in pack, typical and worst case (review
 * finding M2). A document crafted to hold the literals the rules look for passes every prefilter
 * and makes each regex run over the whole text it is given; the match windows (head and tail of
 * each field) bound that text whatever the document's size.
 *   node dist/bench/rule-cost.js [ms-per-shape=600]
 * Figures are process CPU time per document (robust on a shared machine), best of three rounds; the
 * per-container evaluation budget is off (with it, the bench measured documents shipped unevaluated).
 */
import { readFileSync } from 'node:fs';
import { RE2JS } from 're2js';
import winston from 'winston';
import { parse } from 'yaml';
import { Detector, detectConfig } from '../src/detect/detector';
import { RuleIndex } from '../src/detect/prefilter';
import { BUILTIN_RULES, loadRules, ruleFiles, type Rule } from '../src/detect/rules';
import type { Envelope } from '../src/ship/envelope';
import { Telemetry } from '../src/telemetry/telemetry';

type Doc = Envelope['doc'];
const CID = 'c'.repeat(64);
const proc = (argv: string[]): Doc => ({
  data_stream: { type: 'logs', dataset: 'dockward.process', namespace: 'bench' },
  event: { type: ['start'] },
  container: { id: CID, name: 'victim' },
  process: { pid: 4242, name: argv[0].split('/').pop(), executable: argv[0], args: argv, command_line: argv.join(' ') },
});
const log = (message: string): Doc => ({ data_stream: { type: 'logs', dataset: 'dockward.container', namespace: 'bench' }, stream: 'stdout', container: { id: CID, name: 'victim' }, message });

/** The literals of the rules' own prefilter (what the review's m2-cpu.js used). */
const prefilterLiterals = (rules: Rule[]) => [...new Set(rules.flatMap((r) => (r.prefilter ?? []).flatMap((a) => a.literals)))];

/**
 * Every literal any condition of the rule files needs: contains/startswith/endswith values and
 * every string RE2JS's own prefilter requires of each regex. A document holding them all passes
 * every literal test there is, so every regex runs to the end of its text: the worst case.
 */
function everyLiteral(kinds: string[]): string[] {
  const out = new Set<string>();
  type Pf = { str?: string; subs?: Pf[] } | null;
  const fromPrefilter = (p: Pf) => {
    if (p?.str) out.add(p.str);
    for (const s of p?.subs ?? []) fromPrefilter(s);
  };
  const walk = (c: unknown): void => {
    if (Array.isArray(c)) return c.forEach(walk);
    if (!c || typeof c !== 'object') return;
    const o = c as Record<string, unknown>;
    if (typeof o.regex === 'string') fromPrefilter((RE2JS.compile(o.regex, o.nocase ? RE2JS.CASE_INSENSITIVE : 0) as unknown as { re2Input: { prefilter: Pf } }).re2Input.prefilter);
    for (const k of ['contains', 'startswith', 'endswith']) for (const v of [o[k]].flat()) if (typeof v === 'string' && !v.startsWith('@')) out.add(v);
    Object.values(o).forEach(walk);
  };
  for (const f of ruleFiles([BUILTIN_RULES])) {
    const file = (parse(readFileSync(f, 'utf8')) ?? {}) as { macros?: unknown; rules?: Array<{ kind: string | string[] }> };
    walk(file.macros);
    for (const r of file.rules ?? []) if ([r.kind].flat().some((k) => kinds.includes(k))) walk(r);
  }
  return [...out];
}

/** `words` joined by spaces and repeated (whole) to `size` characters; `shuffle` reorders each repeat. */
function fill(words: string[], size: number, shuffle?: () => number): string {
  let out = '';
  while (out.length < size) {
    const w = shuffle ? [...words].sort(() => shuffle() - 0.5) : words;
    out += (out ? ' ' : '') + w.join(' ');
  }
  return out.slice(0, size);
}

/** CPU milliseconds per document through Detector.inspect, best of three rounds of about `budget` ms. */
function cost(detector: Detector, docs: Doc[], budget: number): number {
  const envs = docs.map((doc, i): Envelope => ({ index: 'bench', id: String(i), doc }));
  for (let i = 0; i < 10; i++) detector.inspect(envs[i % envs.length]);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = Date.now();
    while (Date.now() - t0 < budget) for (let i = 0; i < 5; i++) detector.inspect(envs[n++ % envs.length]);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000 / n);
  }
  return best;
}

/** The rules that cost the most on one document (prefilter passed, matcher run). */
function topRules(rules: Rule[], doc: Doc, k: number): string {
  const times = new RuleIndex(rules).candidates(doc).map((r) => {
    for (let i = 0; i < 3; i++) r.matches(doc);
    const c0 = process.cpuUsage();
    let n = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 20) {
      r.matches(doc);
      n++;
    }
    const c = process.cpuUsage(c0);
    return { id: r.id, ms: (c.user + c.system) / 1000 / n };
  });
  return times.sort((a, b) => b.ms - a.ms).slice(0, k).map((x) => `${x.id} ${x.ms.toFixed(2)}`).join(', ');
}

function main(): void {
  const budget = Number(process.argv[2] ?? 600);
  const { rules, issues } = loadRules([BUILTIN_RULES]);
  if (issues.length) throw new Error(`rule problems: ${issues.length}`);
  const procRules = rules.filter((r) => r.enabled && r.kinds.includes('process'));
  const logRules = rules.filter((r) => r.enabled && r.kinds.includes('log'));
  const detector = new Detector(rules, detectConfig.parse({ window: '1h', budget_per_container: 0 }), 'bench', () => undefined, new Telemetry(winston.createLogger({ silent: true })));
  const K = 1024;
  const review = prefilterLiterals(procRules);
  const every = everyLiteral(['process']);
  const logWords = everyLiteral(['log']);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const classpath = Array.from({ length: 220 }, (_, i) => `/opt/app/lib/dependency-${i}-1.2.${i}.jar`).join(':');
  const shapes: Array<[string, Doc[]]> = [
    ['process: python3 manage.py runserver (typical)', [proc(['python3', 'manage.py', 'runserver'])]],
    ['process: node with 40 ordinary options (1.5 KiB)', [proc(['/usr/local/bin/node', ...Array.from({ length: 40 }, (_, i) => `--option-${i}=/srv/app/config/value-${i}`)])]],
    [`process: java -cp <${(classpath.length / K).toFixed(0)} KiB classpath> (benign, long)`, [proc(['java', '-Xmx2g', '-cp', classpath, 'com.example.Main'])]],
    ['process: /bin/true "<prefilter literals, 16 KiB>" (m2-cpu.js)', [proc(['/bin/true', fill(review, 16 * K)])]],
    ['process: /bin/true "<prefilter literals, 64 KiB>"', [proc(['/bin/true', fill(review, 64 * K)])]],
    [`process: /bin/true "<all ${every.length} literals, 16 KiB>"`, [proc(['/bin/true', fill(every, 16 * K)])]],
    [`process: /bin/true "<all literals, 64 KiB>"`, [proc(['/bin/true', fill(every, 64 * K)])]],
    ['process: /bin/true <all literals, 64 KiB in 1024 args>', [proc(['/bin/true', ...fill(every, 64 * K).match(/.{1,64}/gs)!])]],
    ['process: <all literals, 16 KiB, 40 orders (fresh DFA states)>', Array.from({ length: 40 }, () => proc(['/bin/true', fill(every, 16 * K, rnd)]))],
    ['log: 100-byte access log line (typical)', [log('127.0.0.1 - - [28/Nov/2026:14:05:43 +0000] "GET /api/items/1 HTTP/1.1" 200 512 "-" "curl/8.5"')]],
    [`log: <all ${logWords.length} log literals, 16 KiB>`, [log(fill(logWords, 16 * K))]],
    ['log: <all log literals, 64 KiB>', [log(fill(logWords, 64 * K))]],
  ];
  console.log(`rule-cost: ${procRules.length} process rules, ${logRules.length} log rules (built-in pack); CPU ms per document through Detector.inspect, best of 3`);
  const results = shapes.map(([label, docs]) => {
    const ms = cost(detector, docs, budget);
    console.log(`  ${label.padEnd(66)} ${ms.toFixed(3).padStart(8)} ms/doc ${String(Math.round(1000 / ms)).padStart(8)} docs/s`);
    return { label, ms };
  });
  detector.flush();
  const typical = results[0].ms;
  const worst = (p: string) => results.filter((r) => r.label.startsWith(p)).reduce((a, b) => (b.ms > a.ms ? b : a));
  const wp = worst('process');
  const wl = worst('log');
  console.log(`  worst process document: ${wp.ms.toFixed(2)} ms = ${(wp.ms / typical).toFixed(0)}x a typical exec (${wp.label.replace('process: ', '')})`);
  console.log(`  worst log line: ${wl.ms.toFixed(2)} ms = ${(wl.ms / typical).toFixed(1)}x a typical exec`);
  console.log(`  costliest process rules on all literals, 64 KiB (CPU ms): ${topRules(procRules, shapes[6][1][0], 5)}`);
  console.log(`  costliest log rules on all log literals, 64 KiB (CPU ms): ${topRules(logRules, shapes[11][1][0], 3)}`);
}

main();
