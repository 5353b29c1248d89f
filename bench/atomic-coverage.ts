/**
 * Detection coverage of the built-in pack on a third-party atomic-test library (Atomic Red Team's
 * atomics/T*.yaml, or any directory of files in its format), Linux tests with an sh or bash
 * executor:
 *   node dist/bench/atomic-coverage.js <atomics-dir> [--list]
 * Each test's command (input arguments at their defaults) becomes the process starts a kernel
 * collector would document: `sh -c <command>`, `sh -c <line>` for each line, and each simple
 * command of a line (split at ; && || |) as its own exec. A test is detected when a rule fires on
 * one of them, "right technique" when a fired rule carries the test's technique, its parent or one
 * of its sub-techniques. Alerts and signals are counted apart. File drift, network sockets and
 * logs are not simulated: these are process rules only, so the figures are a floor.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { inDocument } from '../src/detect/match-window';
import { RuleIndex } from '../src/detect/prefilter';
import { BUILTIN_RULES, loadRules, type Rule } from '../src/detect/rules';

interface Atomic {
  name: string;
  supported_platforms?: string[];
  input_arguments?: Record<string, { default?: unknown }>;
  executor?: { name?: string; command?: string };
}

const start = (argv: string[]) => ({
  data_stream: { dataset: 'dockward.process' },
  event: { type: ['start'], provider: 'kernel' },
  process: { name: argv[0].split('/').pop(), args: argv, command_line: argv.join(' '), user: { id: '0', name: 'root' } },
});

/** The execs one test's command makes, approximately (see the header). */
function execs(command: string): string[][] {
  const out: string[][] = [['sh', '-c', command]];
  for (const line of command.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    out.push(['sh', '-c', line]);
    for (const part of line.split(/\s*(?:&&|\|\||;|\|)\s*/)) {
      const argv = part.trim().split(/\s+/).filter(Boolean);
      if (argv.length && !/^\w+=/.test(argv[0])) out.push(argv);
    }
  }
  return out;
}

const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: atomic-coverage <atomics-dir> [--list]');
  const list = process.argv.includes('--list');
  const rules = loadRules([BUILTIN_RULES]).rules.filter((r) => r.enabled && r.kinds.includes('process'));
  const index = new RuleIndex(rules);
  const files = readdirSync(dir).filter((f) => /^T\d{4}(\.\d{3})?\.ya?ml$/.test(f)).sort();
  type Row = { technique: string; test: string; fired: Rule[] };
  const rows: Row[] = [];
  for (const f of files) {
    const doc = parse(readFileSync(join(dir, f), 'utf8')) as { attack_technique?: string; atomic_tests?: Atomic[] };
    const technique = doc.attack_technique ?? f.replace(/\.ya?ml$/, '');
    for (const t of doc.atomic_tests ?? []) {
      if (!t.supported_platforms?.includes('linux') || !['sh', 'bash'].includes(t.executor?.name ?? '') || !t.executor?.command) continue;
      let command = t.executor.command;
      for (const [k, v] of Object.entries(t.input_arguments ?? {})) command = command.split(`#{${k}}`).join(String(v.default ?? ''));
      const fired = new Set<Rule>();
      for (const argv of execs(command)) {
        const d = start(argv);
        inDocument(d, () => index.candidates(d).filter((r) => r.matches(d)).forEach((r) => fired.add(r)));
      }
      rows.push({ technique, test: t.name, fired: [...fired] });
    }
  }
  const count = (pred: (r: Row) => boolean) => rows.filter(pred).length;
  const pct = (n: number) => `${n} (${((100 * n) / rows.length).toFixed(1)} %)`;
  const alerts = (r: Row) => r.fired.filter((x) => x.class === 'alert');
  const right = (r: Row, rs: Rule[]) => rs.some((x) => x.techniques.some((t) => related(t, r.technique)));
  console.log(`atomic-coverage: ${rows.length} Linux sh/bash tests in ${files.length} files, ${rules.length} process rules`);
  console.log(`  detected, alerts or signals:      ${pct(count((r) => r.fired.length > 0))}`);
  console.log(`  detected, alerts only:            ${pct(count((r) => alerts(r).length > 0))}`);
  console.log(`  right technique, alerts or signals: ${pct(count((r) => right(r, r.fired)))}`);
  console.log(`  right technique, alerts only:       ${pct(count((r) => right(r, alerts(r))))}`);
  const byTactic = new Map<string, { n: number; hit: number }>();
  for (const r of rows) {
    const base = r.technique.split('.')[0];
    const e = byTactic.get(base) ?? { n: 0, hit: 0 };
    e.n++;
    if (r.fired.length) e.hit++;
    byTactic.set(base, e);
  }
  console.log(`  per technique (detected/tests): ${[...byTactic].map(([t, e]) => `${t} ${e.hit}/${e.n}`).join(', ')}`);
  if (list) for (const r of rows) console.log(`${r.fired.length ? (right(r, r.fired) ? 'HIT ' : 'hit ') : 'MISS'} ${r.technique} ${r.test} :: ${r.fired.map((x) => x.id).join(', ')}`);
}

main();
