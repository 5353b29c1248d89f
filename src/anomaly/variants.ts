/**
 * Named configurations of the univariate core, as benchmarked on NAB (bench/nab.ts; results in
 * docs/anomaly.md). One config per variant for every series — nothing is tuned per file. Names
 * contain no '_' because NAB's scorer splits result file names on it.
 */
import { univariateSchema, UnivariateDetector } from './univariate';
import { coreSchema, SignalCore } from './core';
import { Hold, Likelihood, SpatialRange } from './likelihood';

export interface SeriesInfo {
  /** the whole file's min and max (NAB gives these to its detectors; only 'given' variants use them) */
  min: number;
  max: number;
  /** NAB's probationary period in rows */
  probation: number;
}
export type Scorer = (value: number, timestampMs: number) => number;

function cad(overrides: Record<string, unknown>) {
  return (s: SeriesInfo): Scorer => {
    const c = univariateSchema.parse({ warmup: s.probation, ...overrides });
    const d = new UnivariateDetector(c, c.range === 'given' ? { min: s.min, max: s.max } : undefined);
    return (v) => d.update(v).score;
  };
}

export const VARIANTS: Record<string, (s: SeriesInfo) => Scorer> = {
  /** the faithful port: range from the whole file, as NAB's contextOSE */
  cadoseGiven: cad({ range: 'given', combine: 'cad' }),
  /** the same, range learned from the probationary rows only */
  cadoseWarmup: cad({ range: 'warmup', combine: 'cad' }),
  /** range = min/max of every value so far (including the current one) */
  cadoseExpanding: cad({ range: 'expanding', combine: 'cad' }),
  /** CAD (expanding range) or the level deviation, whichever is larger, then CAD's suppression */
  cadLevel: cad({ range: 'expanding', combine: 'max' }),
  cadLevelZ4: cad({ range: 'expanding', combine: 'max', z0: 4 }),
  /** range learned in the probationary rows, then frozen, the quantiser spanning k× that range */
  cadWarmupX2: cad({ range: 'warmup', combine: 'cad', span_factor: 2 }),
  cadWarmupX3: cad({ range: 'warmup', combine: 'cad', span_factor: 3 }),
  cadWarmupX15: cad({ range: 'warmup', combine: 'cad', span_factor: 1.5 }),
  /** X2 with the level deviation gated in, as the container model did before `daemon` */
  cadWarmupX2Gated: cad({ range: 'warmup', combine: 'gated', span_factor: 2 }),
  /** the container model's combination before `daemon`: level, or CAD scaled by min(1, z/z0) */
  cadGated: cad({ range: 'expanding', combine: 'gated' }),
};

/**
 * CAD's raw score (no rest period) per quantiser span, each through its own anomaly likelihood
 * (likelihood.ts), the largest taken; then one report per event (`hold`, a share of the
 * probationary period, as CAD's own rest period) and a new extreme beyond `tolerance` of the range
 * seen so far scores 1. The likelihood learns over the first half of the probationary period and
 * fits over the second, as NAB's numenta detector sets it up.
 */
function likelihoodEnsemble(spans: number[], o: { average: number; hold: number; tolerance: number }) {
  return (s: SeriesInfo): Scorer => {
    const learn = Math.floor(s.probation / 2);
    const parts = spans.map((span_factor) => {
      const c = univariateSchema.parse({ warmup: s.probation, range: 'warmup', combine: 'cad', span_factor });
      const d = new UnivariateDetector(c);
      const l = new Likelihood({ learn, estimate: s.probation - learn, window: 8640, reestimate: 100, average: o.average });
      return (v: number) => l.update(d.update(v).raw);
    });
    const hold = o.hold > 0 ? new Hold(s.probation * o.hold, 0.45) : undefined;
    const spatial = o.tolerance >= 0 ? new SpatialRange(o.tolerance) : undefined;
    return (v) => {
      let m = 0;
      for (const p of parts) m = Math.max(m, p(v));
      const held = hold ? hold.apply(m) : m;
      return Math.max(held, spatial ? spatial.update(v) : 0);
    };
  };
}

Object.assign(VARIANTS, {
  /** X2's raw CAD score through the likelihood, plus the new-extreme check; no hold */
  cadLikSpatial: likelihoodEnsemble([2], { average: 10, hold: 0, tolerance: 0.05 }),
  /** the same with a 7-row average and one report per event */
  cadLik: likelihoodEnsemble([2], { average: 7, hold: 0.2, tolerance: 0.05 }),
  /** two quantisers (2× and 3× the probationary range), the larger likelihood */
  cadPairLik: likelihoodEnsemble([2, 3], { average: 7, hold: 0.2, tolerance: 0.05 }),
});

/**
 * The daemon's own core (core.ts, its defaults), the probationary period as its warm-up, plus
 * one report per event: the hold stands for the daemon's alert grouping, which reports an
 * incident once and then summarises it.
 */
function daemon(s: SeriesInfo): Scorer {
  const core = new SignalCore(coreSchema.parse({ warmup: Math.max(2, s.probation) }));
  const hold = new Hold(s.probation * 0.2, 0.45);
  return (v) => hold.apply(core.update(v).score);
}
Object.assign(VARIANTS, { daemon });

export const DEFAULT_VARIANT = 'daemon';
