/**
 * NAB (Numenta Anomaly Benchmark) for dockward's univariate anomaly core: every series in the
 * corpus, scored online, results written in NAB's layout and scored by NAB's own scorer (run from
 * a writable copy of NAB, since ../shared/nab is read-only), printed beside the published figures.
 *   node dist/bench/nab.js [dataDir=/work/shared/nab/data] [--variant name,…] [--nab dir] [--work dir]
 * The default variant, `daemon`, is the core `dockward run` runs on every signal (src/anomaly/core.ts,
 * DEFAULT_VARIANT in src/anomaly/variants.ts); `--variant all` runs every recorded variant.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { VARIANTS, DEFAULT_VARIANT, type SeriesInfo } from '../src/anomaly/variants';
import { listCsv } from './nab-fast';

const PUBLISHED: Array<[string, number | null, number | null, number | null]> = [
  ['ARTime', 74.9, 65.1, 80.4],
  ['Numenta HTM', 70.5, 62.6, 75.2],
  ['CAD OSE', 69.9, 67.0, 73.2],
  ['Relative Entropy', 54.6, 47.6, 58.8],
  ['Windowed Gaussian', 39.6, 20.9, 47.4],
  ['Random', 11.0, 1.2, 19.5],
  ['seed: IsolationForest', 9.2, null, null],
];
const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;

function args(): { data: string; variants: string[]; nab: string; work: string } {
  const a = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = a.indexOf(name);
    if (i < 0) return undefined;
    const v = a[i + 1];
    a.splice(i, 2);
    return v;
  };
  const variant = opt('--variant') ?? DEFAULT_VARIANT;
  const nab = opt('--nab');
  const work = opt('--work') ?? '/tmp/dockward-nab';
  const data = a[0] ?? '/work/shared/nab/data';
  return {
    data,
    variants: variant === 'all' ? Object.keys(VARIANTS) : variant.split(','),
    nab: nab ?? join(data, '..'),
    work,
  };
}

/** NAB timestamps are "YYYY-MM-DD HH:MM:SS(.ffffff)"; compared as UTC milliseconds. */
const ms = (t: string): number => Date.parse(t.trim().replace(' ', 'T') + 'Z');

function runVariant(name: string, data: string, windows: Record<string, string[][]>, out: string): number {
  const make = VARIANTS[name];
  if (!make) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
  let rows = 0;
  for (const file of listCsv(data)) {
    const rel = relative(data, file);
    const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/).slice(1);
    const ts = lines.map((l) => l.slice(0, l.indexOf(',')));
    const vals = lines.map((l) => Number(l.slice(l.indexOf(',') + 1)));
    const win = (windows[rel] ?? []).map(([a, b]) => [ms(a), ms(b)]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of vals) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    // NAB's probationary period: 15 % of the file, at most 750 rows
    const info: SeriesInfo = { min, max, probation: Math.min(Math.floor(0.15 * vals.length), 0.15 * 5000) };
    const score = make(info);
    const outRows = ['timestamp,value,anomaly_score,label'];
    for (let i = 0; i < vals.length; i++) {
      const s = Math.min(1, Math.max(0, score(vals[i], ms(ts[i]))));
      const t = ms(ts[i]);
      const label = win.some(([a, b]) => t >= a && t <= b) ? 1 : 0;
      outRows.push(`${ts[i]},${lines[i].slice(lines[i].indexOf(',') + 1)},${s},${label}`);
    }
    rows += vals.length;
    const dest = join(out, 'results', name, dirname(rel), `${name}_${rel.split('/').pop()}`);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, outRows.join('\n') + '\n');
  }
  return rows;
}

/** A python3 that has pandas: $NAB_PYTHON, the first on PATH, or the system's (Debian's python3-pandas). */
function python(): string {
  for (const p of [process.env.NAB_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!p) continue;
    try {
      execFileSync(p, ['-c', 'import pandas'], { stdio: 'ignore' });
      return p;
    } catch {
      // next
    }
  }
  throw new Error('NAB scorer needs python3 with pandas (apt-get install -y python3-pandas, or set NAB_PYTHON)');
}

function main(): void {
  const { data, variants, nab, work } = args();
  if (!existsSync(join(work, 'run.py'))) {
    rmSync(work, { recursive: true, force: true });
    cpSync(nab, work, { recursive: true });
  }
  const windows = JSON.parse(readFileSync(join(nab, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, string[][]>;
  const scores: Record<string, Record<string, number>> = {};
  for (const v of variants) {
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    rmSync(join(work, 'results', v), { recursive: true, force: true });
    const rows = runVariant(v, data, windows, work);
    const cpu = process.cpuUsage(cpu0);
    const sec = (cpu.user + cpu.system) / 1e6;
    console.log(`${v}: ${rows} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s (${((sec / rows) * 1e6).toFixed(1)} µs CPU per row)`);
    // The scorer reads detector names from this file and refuses ones it has no entry for.
    const thrFile = join(work, 'config', 'thresholds.json');
    const thr = JSON.parse(readFileSync(thrFile, 'utf8')) as Record<string, unknown>;
    if (!thr[v]) {
      thr[v] = Object.fromEntries(PROFILES.map((p) => [p, { score: 0, threshold: 0.5 }]));
      writeFileSync(thrFile, JSON.stringify(thr, null, 2));
    }
    execFileSync(python(), ['run.py', '-d', v, '--optimize', '--score', '--normalize', '--skipConfirmation'], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const final = JSON.parse(readFileSync(join(work, 'results', 'final_results.json'), 'utf8')) as Record<string, Record<string, number>>;
    scores[v] = final[v];
  }
  const f = (x: number | null | undefined): string => (x == null ? '—' : x.toFixed(1)).padStart(10);
  console.log(`\n${'detector'.padEnd(28)}${'standard'.padStart(10)}${'low FP'.padStart(10)}${'low FN'.padStart(10)}`);
  for (const v of variants) console.log(`${('dockward ' + v).padEnd(28)}${PROFILES.map((p) => f(scores[v]?.[p])).join('')}`);
  for (const [n, s, lfp, lfn] of PUBLISHED) console.log(`${('published ' + n).padEnd(28)}${f(s)}${f(lfp)}${f(lfn)}`);
  console.log(`\nscorer: python3 run.py -d <variant> --optimize --score --normalize --skipConfirmation (in ${work})`);
}

main();
