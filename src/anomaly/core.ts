/**
 * The per-signal core: what the daemon runs on each of a container's signals and what bench/nab.ts
 * scores on NAB (variant `daemon`, the default there) — one class, so the benchmarked figure is the
 * daemon's. One value in, a score in [0, 1] out, from the values before and at it only.
 *
 * CAD OSE's raw score (cad.ts, univariate.ts) under two quantisers, spanning 2× and 3× the range
 * learned during the warm-up; each raw score through its own anomaly likelihood (likelihood.ts:
 * "how unusual is this raw score for this series", so a noisy and a regular series share one
 * threshold); the larger taken; and a value beyond everything seen so far (by 5 % of that range;
 * in the daemon also by the signal's noise floor and 10 % of itself) scores 1 at once.
 *
 * What it does not do: hold the score at 0 after a report. NAB's variant adds that hold (one
 * report per event pays there); in the daemon the alert grouping does it (detect.window: the first
 * alert, then one summary), so the documents keep showing how unusual each interval is.
 *
 * Memory is bounded by `max_contexts` per quantiser (CAD's learned contexts) and the likelihood's
 * constant-size moments; docs/anomaly.md gives the figures of bench/anomaly-cost.ts.
 */
import { z } from 'zod';
import { Likelihood, SpatialRange, type LikelihoodState } from './likelihood';
import { univariateSchema, UnivariateDetector, type UnivariateState } from './univariate';

export const coreSchema = z.object({
  /** samples before scores are trusted: the likelihood learns over the first half and fits over the second */
  warmup: z.number().int().min(2).default(60),
  /** quantiser spans, as multiples of the warm-up range */
  spans: z.array(z.number().min(1)).min(1).default([2, 3]),
  /** CAD contexts learned per quantiser, at most (the memory bound) */
  max_contexts: z.number().int().min(100).default(3000),
  /** smallest span a quantiser uses, in the value's unit (noise within it stays in one bin) */
  min_span: z.number().nonnegative().default(0),
  /** the smallest step past the range seen that scores 1, in the value's unit */
  floor: z.number().nonnegative().default(0),
  /** share of the range seen a new extreme must pass to score 1 */
  tolerance: z.number().min(0).default(0.05),
  /**
   * share of the extreme's own size it must also pass, for signals with units (a rate's jitter
   * grows with the rate); 0 on NAB's unitless series, like `floor` and `min_span`
   */
  relative: z.number().min(0).default(0),
  /** raw scores in the likelihood's short average; the long window's length; rows between fits */
  average: z.number().int().min(1).default(7),
  window: z.number().int().min(2).default(8640),
  reestimate: z.number().int().min(1).default(100),
});
export type CoreConfig = z.output<typeof coreSchema>;

export interface CoreState {
  parts: Array<{ cad: UnivariateState; likelihood: LikelihoodState }>;
  spatial: { min: number | null; max: number | null };
}

export interface CoreScore {
  score: number;
  /** the larger of the quantisers' raw CAD scores (before the likelihood) */
  cad: number;
  /** 1 when the value left the range seen so far */
  spatial: number;
}

export class SignalCore {
  private readonly parts: Array<{ cad: UnivariateDetector; likelihood: Likelihood }>;
  private readonly spatial: SpatialRange;

  constructor(c: CoreConfig, state?: CoreState) {
    const learn = Math.floor(c.warmup / 2);
    this.parts = c.spans.map((span_factor, i) => {
      const uc = univariateSchema.parse({ warmup: c.warmup, range: 'warmup', combine: 'cad', span_factor, min_span: c.min_span, max_contexts: c.max_contexts });
      const saved = state?.parts[i];
      return {
        cad: new UnivariateDetector(uc, undefined, saved?.cad && revive(saved.cad)),
        likelihood: new Likelihood({ learn, estimate: c.warmup - learn, window: c.window, reestimate: c.reestimate, average: c.average, ew: true, filter: false }, saved?.likelihood),
      };
    });
    this.spatial = new SpatialRange(c.tolerance, c.floor, state?.spatial, c.relative);
  }

  update(value: number): CoreScore {
    let score = 0;
    let cad = 0;
    for (const p of this.parts) {
      const raw = p.cad.cadScore(value);
      cad = Math.max(cad, raw);
      score = Math.max(score, p.likelihood.update(raw));
    }
    const spatial = this.spatial.update(value);
    return { score: Math.max(score, spatial), cad, spatial };
  }

  get contexts(): number {
    return this.parts.reduce((n, p) => n + p.cad.contexts, 0);
  }

  snapshot(): CoreState {
    return { parts: this.parts.map((p) => ({ cad: p.cad.snapshot(), likelihood: p.likelihood.state })), spatial: this.spatial.state };
  }
}

/** JSON turns ±Infinity (an empty range) into null. */
function revive(st: UnivariateState): UnivariateState {
  return { ...st, min: st.min ?? Infinity, max: st.max ?? -Infinity };
}
