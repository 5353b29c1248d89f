/**
 * A fast, in-process NAB score for iterating on variants: the same sweep as NAB's own scorer
 * (nab/sweeper.py: calcSweepScore + calcScoreByThreshold, re-implemented here, not copied), the
 * threshold optimised over the whole corpus, normalised by the null detector's scores that ship
 * with NAB. It exists because NAB's scorer takes minutes per variant; every figure recorded in
 * docs/anomaly.md comes from bench/nab.ts (NAB's scorer) — this one only ranks candidates.
 *   node dist/bench/nab-fast.js --variant a,b,…|all [--data dir]
 * Without --variant it only prints that line: `npm run bench` runs every bench, and bench/nab.js
 * already scores the default variant there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { VARIANTS, DEFAULT_VARIANT, type SeriesInfo } from '../src/anomaly/variants';

export interface Series { rel: string; ts: number[]; values: number[]; windows: Array<[number, number]>; info: SeriesInfo }

const PROFILES = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
} as const;
type Profile = keyof typeof PROFILES;

const ms = (t: string): number => Date.parse(t.trim().replace(' ', 'T') + 'Z');

/** Every .csv below `dir`, in name order (NAB's data layout: one folder per category). */
export function listCsv(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listCsv(p));
    else if (e.name.endsWith('.csv')) out.push(p);
  }
  return out;
}

export function loadCorpus(data: string): Series[] {
  const windows = JSON.parse(readFileSync(join(data, '..', 'labels', 'combined_windows.json'), 'utf8')) as Record<string, string[][]>;
  return listCsv(data).map((file) => {
    const rel = relative(data, file);
    const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/).slice(1);
    const ts = lines.map((l) => ms(l.slice(0, l.indexOf(','))));
    const values = lines.map((l) => Number(l.slice(l.indexOf(',') + 1)));
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const probation = Math.min(Math.floor(0.15 * values.length), 0.15 * 5000);
    const win = (windows[rel] ?? []).map(([a, b]) => [ms(a), ms(b)] as [number, number]);
    return { rel, ts, values, windows: win, info: { min, max, probation } };
  });
}

const scaledSigmoid = (x: number): number => (x > 3 ? -1 : 2 / (1 + Math.exp(5 * x)) - 1);

interface Point { score: number; tpW: number; fpW: number; window: number } // window -1: none

/** Per row: the unweighted sweep score NAB gives a detection there, and its window (NAB's calcSweepScore). */
function sweepPoints(s: Series, scores: ArrayLike<number>, windowBase: number, out: Point[]): number {
  const maxTP = scaledSigmoid(-1);
  const idx = new Map(s.ts.map((t, i) => [t, i]));
  const wins = s.windows.map(([a, b]) => [idx.get(a)!, idx.get(b)!]);
  let w = 0;
  let cur = -1;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < s.ts.length; i++) {
    if (w < wins.length && i === wins[w][0]) cur = w++;
    let unweighted: number;
    let inWin = false;
    if (cur >= 0) {
      const width = wins[cur][1] - wins[cur][0] + 1;
      unweighted = scaledSigmoid(-(wins[cur][1] - i + 1) / width) / maxTP;
      inWin = true;
    } else if (prevRight < 0) unweighted = -1;
    else unweighted = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
    if (i >= s.info.probation) {
      out.push({ score: scores[i], tpW: inWin ? unweighted : 0, fpW: inWin ? 0 : unweighted, window: inWin ? windowBase + cur : -1 });
    }
    if (cur >= 0 && i === wins[cur][1]) {
      prevRight = i;
      prevWidth = wins[cur][1] - wins[cur][0] + 1;
      cur = -1;
    }
  }
  return wins.length;
}

function nullBaseline(nab: string, p: Profile): number {
  const rows = readFileSync(join(nab, 'results', 'null', `null_${p}_scores.csv`), 'utf8').trim().split('\n');
  const header = rows[0].split(',');
  return Number(rows[rows.length - 1].split(',')[header.indexOf('Score')]);
}

/** Best normalised score per profile over every threshold, as NAB's --optimize --normalize. */
export function nabScore(corpus: Series[], scores: Array<ArrayLike<number>>, nab = '/work/shared/nab'): Record<Profile, { score: number; threshold: number }> {
  const pts: Point[] = [];
  let windows = 0;
  corpus.forEach((s, k) => (windows += sweepPoints(s, scores[k], windows, pts)));
  pts.sort((a, b) => b.score - a.score);
  const out = {} as Record<Profile, { score: number; threshold: number }>;
  for (const p of Object.keys(PROFILES) as Profile[]) {
    const c = PROFILES[p];
    const best = new Float64Array(windows).fill(-c.fn);
    const seen = new Set<number>();
    for (const x of pts) if (x.window >= 0) seen.add(x.window);
    // windows wholly inside the probationary period are not scorable (NAB: no entry in scoreParts)
    let total = -c.fn * seen.size;
    let fp = 0;
    let bestScore = total;
    let bestThr = 1.1;
    for (let i = 0; i < pts.length; i++) {
      const x = pts[i];
      if (x.window < 0) fp += x.fpW * c.fp;
      else {
        const v = x.tpW * c.tp;
        if (v > best[x.window]) {
          total += v - best[x.window];
          best[x.window] = v;
        }
      }
      if (i + 1 === pts.length || pts[i + 1].score !== x.score) {
        if (total + fp > bestScore) {
          bestScore = total + fp;
          bestThr = x.score;
        }
      }
    }
    const base = nullBaseline(nab, p);
    const perfect = countWindows(nab) * c.tp;
    out[p] = { score: (100 * (bestScore - base)) / (perfect - base), threshold: bestThr };
  }
  return out;
}

function countWindows(nab: string): number {
  const l = JSON.parse(readFileSync(join(nab, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, unknown[]>;
  return Object.values(l).reduce((n, w) => n + w.length, 0);
}

export function runScores(corpus: Series[], make: (s: SeriesInfo) => (v: number, t: number) => number): Float64Array[] {
  return corpus.map((s) => {
    const f = make(s.info);
    const out = new Float64Array(s.values.length);
    for (let i = 0; i < s.values.length; i++) out[i] = Math.min(1, Math.max(0, f(s.values[i], s.ts[i])));
    return out;
  });
}

if (require.main === module) {
  const a = process.argv.slice(2);
  const vi = a.indexOf('--variant');
  if (vi < 0) {
    console.log(`nab-fast: ranks variants in-process; pass --variant name,…|all (default variant: ${DEFAULT_VARIANT}; NAB's own scorer: bench/nab.js)`);
    process.exit(0);
  }
  const names = a[vi + 1].split(',');
  const di = a.indexOf('--data');
  const corpus = loadCorpus(di >= 0 ? a[di + 1] : '/work/shared/nab/data');
  for (const n of names[0] === 'all' ? Object.keys(VARIANTS) : names) {
    const t0 = process.cpuUsage();
    const r = nabScore(corpus, runScores(corpus, VARIANTS[n]));
    const cpu = process.cpuUsage(t0);
    const f = (p: Profile): string => `${r[p].score.toFixed(1)} @${r[p].threshold.toFixed(3)}`;
    console.log(`${n.padEnd(24)} std ${f('standard')}  lowFP ${f('reward_low_FP_rate')}  lowFN ${f('reward_low_FN_rate')}  (${((cpu.user + cpu.system) / 1e6).toFixed(0)} s)`);
  }
}
