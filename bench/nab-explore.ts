/**
 * Reproduces the exploration table in docs/anomaly.md ("How it was found"): CAD's raw scores per
 * quantiser span are computed once and cached (a few minutes; CAD is the slow part), then every
 * combination tried is run row by row through the same online classes the variants use
 * (likelihood.ts, cad.ts's rest period) and ranked by bench/nab-fast.ts's sweep (identical to NAB's
 * scorer on every variant checked). Prints markdown rows: standard | low FP | low FN.
 *   node dist/bench/nab-explore.js --run [--data dir] [--cache dir=/tmp/dockward-nab-cache]
 * Without --run it only prints that line, so `npm run bench` (every bench) stays short.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RestSuppressor } from '../src/anomaly/cad';
import { erfc, Hold, Likelihood, SpatialRange, type LikelihoodOptions } from '../src/anomaly/likelihood';
import { univariateSchema, UnivariateDetector } from '../src/anomaly/univariate';
import { loadCorpus, nabScore, type Series } from './nab-fast';

type Rows = number[][]; // per series, per row
const a = process.argv.slice(2);
if (!a.includes('--run')) {
  console.log('nab-explore: reproduces the exploration table in docs/anomaly.md; pass --run (several minutes)');
  process.exit(0);
}
const opt = (n: string, d: string): string => (a.includes(n) ? a[a.indexOf(n) + 1] : d);
const corpus = loadCorpus(opt('--data', '/work/shared/nab/data'));
const cacheDir = opt('--cache', '/tmp/dockward-nab-cache');

/** CAD's raw score (no rest period) per row, range learned over the probation × span, or given; `mc`: the contexts cap. */
function raw(span: number | 'given', mc = 20000): Rows {
  const file = join(cacheDir, `raw-${span}${mc === 20000 ? '' : `-${mc}`}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Rows;
  const out = corpus.map((s) => {
    const c = univariateSchema.parse({ warmup: s.info.probation, combine: 'cad', range: span === 'given' ? 'given' : 'warmup', span_factor: span === 'given' ? 1 : span, max_contexts: mc });
    const d = new UnivariateDetector(c, span === 'given' ? { min: s.info.min, max: s.info.max } : undefined);
    return s.values.map((v) => d.update(v).raw);
  });
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(file, JSON.stringify(out));
  return out;
}

const each = (f: (s: Series, k: number) => number[]): Rows => corpus.map(f);
const lik = (r: Rows, o: Partial<LikelihoodOptions> = {}): Rows =>
  each((s, k) => {
    const learn = Math.floor(s.info.probation / 2);
    const l = new Likelihood({ learn, estimate: s.info.probation - learn, window: 8640, reestimate: 100, average: 10, ...o });
    return r[k].map((x) => l.update(x));
  });
const sp = (tol = 0.05): Rows => each((s) => ((r) => s.values.map((v) => r.update(v)))(new SpatialRange(tol)));
const hold = (r: Rows, share: number): Rows => each((s, k) => ((h) => r[k].map((x) => h.apply(x)))(new Hold(s.info.probation * share, 0.45)));
const rest = (r: Rows): Rows => each((s, k) => ((h) => r[k].map((x) => h.apply(x)))(new RestSuppressor(s.info.probation * 0.2, 0.75)));
const zip = (f: (...x: number[]) => number, ...rs: Rows[]): Rows => rs[0].map((r, k) => r.map((_, i) => f(...rs.map((q) => q[k][i]))));
const max = (...rs: Rows[]): Rows => zip(Math.max, ...rs);
const scale = (r: Rows, c: number): Rows => r.map((x) => x.map((v) => v * c));
/** two-sided z of the value against an exponentially weighted mean and variance, as P(|Z| < z) */
const zscore = (span: number): Rows =>
  each((s) => {
    let m = s.values[0];
    let v = 0;
    const al = 2 / (span + 1);
    return s.values.map((x, i) => {
      const z = Math.abs(x - m) / (Math.sqrt(v) || 1e-9);
      const d = x - m;
      m += al * d;
      v = (1 - al) * (v + al * d * d);
      return i < 10 ? 0 : 1 - erfc(z / Math.SQRT2);
    });
  });

const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
const score = (r: Rows): number[] => ((x) => PROFILES.map((p) => x[p].score))(nabScore(corpus, r));
const row = (name: string, ...rs: Rows[]): void => {
  const s = rs.map(score);
  console.log(`| ${name} | ${PROFILES.map((_, p) => s.map((x) => x[p].toFixed(1)).join(' / ')).join(' | ')} |`);
};

const r2 = raw(2);
const r3 = raw(3);
const r15 = raw(1.5);
const rg = raw('given');
const S = sp();
const final = (r: Rows, share = 0.2): Rows => max(hold(r, share), S);
const L2 = lik(r2, { average: 7 });
const L3 = lik(r3, { average: 7 });
const pair = max(L2, L3);

row('new-extreme check alone (5 %)', S);
row('X2 raw CAD, no rest period', r2);
row('X2 likelihood (10-row average), no sp', lik(r2));
row('X2 CAD with rest period + sp', max(rest(r2), S));
row('X2 likelihood + sp (= `cadLikSpatial`)', max(lik(r2), S));
row('— without the red-after-red filter', max(lik(r2, { filter: false }), S));
// learn 0 with the estimate count unchanged: the likelihood fits from the first row on
row('— likelihood from the first row (no learning half)', max(lik(r2, { learn: 0 }), S));
row('— average 1 / 5 / 20 rows', ...[1, 5, 20].map((n) => max(lik(r2, { average: n }), S)));
row('— variance floor 0.001 / 0.0001 (0.0003 kept)', ...[0.001, 0.0001].map((f) => max(lik(r2, { varianceFloor: f }), S)));
row('— window 2,000 rows (8,640 kept)', max(lik(r2, { window: 2000 }), S));
row('— sp at 0 % / 2 % / 10 % / 20 %', ...[0, 0.02, 0.1, 0.2].map((t) => max(lik(r2), sp(t))));
row('X2, 7-row average, hold 0.1 / 0.2 (= `cadLik`) / 0.4 of probation', ...[0.1, 0.2, 0.4].map((h) => final(L2, h)));
row('X3 alone, 7-row average + sp', max(L3, S));
row('likelihood of the mean of X2 and X3 raw, hold 0.2', final(lik(zip((x, y) => (x + y) / 2, r2, r3), { average: 7 })));
row('likelihood of the max of X2 and X3 raw, hold 0.2', final(lik(max(r2, r3), { average: 7 })));
row('max of the X2 and X3 likelihoods, hold 0.2 (= `cadPairLik`)', final(pair));
const L15 = lik(r15, { average: 7 });
row('— X1.5 and X2 instead / X1.5, X2 and X3', final(max(L15, L2)), final(max(L15, pair)));
row('— or X2\'s CAD with its rest period × 0.5 / 0.6 / 0.7', ...[0.5, 0.6, 0.7].map((c) => final(max(pair, scale(rest(r2), c)))));
const grid: number[][] = [];
for (const t of [0.02, 0.05, 0.1]) {
  const St = sp(t);
  for (const n of [5, 7, 10]) {
    const p = max(lik(r2, { average: n }), lik(r3, { average: n }));
    for (const h of [0.1, 0.2, 0.3]) grid.push(score(max(hold(p, h), St)));
  }
}
const range = (p: number): string => `${Math.min(...grid.map((g) => g[p])).toFixed(1)}–${Math.max(...grid.map((g) => g[p])).toFixed(1)}`;
console.log(`| \`cadPairLik\` grid: average 5/7/10 × hold 0.1/0.2/0.3 × sp 2/5/10 % | ${[0, 1, 2].map(range).join(' | ')} |`);
const Lz500 = lik(zscore(500), { average: 7 });
row('second detector (these three with hold 0.2 and sp): likelihood of a z-score (EWMA span 500) alone', final(Lz500));
row('max(X2 likelihood, z-score likelihood, span 500 / 50)', final(max(L2, Lz500)), final(max(L2, lik(zscore(50), { average: 7 }))));
row('likelihood of max(X2 raw, z-score tail)', final(lik(max(r2, zscore(500)), { average: 7 })));
row('whole-file range (not online, reference): CAD + sp / likelihood + sp', max(rest(rg), S), max(lik(rg), S));
// From `cadPairLik` to the daemon's core (core.ts, variant `daemon`): constant memory, bounded contexts.
const ew = { average: 7, ew: true };
const pairOf = (mc: number, o: Partial<LikelihoodOptions> = {}): Rows => max(lik(raw(2, mc), { ...ew, ...o }), lik(raw(3, mc), { ...ew, ...o }));
row('`cadPairLik` with exponentially weighted moments instead of 8,640 averages', final(pairOf(20000)));
row('— re-fitted every row instead of every 100', final(pairOf(20000, { reestimate: 1 })));
row('— contexts capped at 1,000 / 2,000 / 3,000 per quantiser', ...[1000, 2000, 3000].map((mc) => final(pairOf(mc))));
const P3 = pairOf(3000, { filter: false });
row('— 3,000, without the red-after-red filter', final(P3));
row('— 3,000, no filter, no hold', max(P3, S));
row('— 3,000, no filter, the hold over the new-extreme check too (= `daemon`)', hold(max(P3, S), 0.2));
