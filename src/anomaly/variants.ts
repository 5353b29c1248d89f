/**
 * Named configurations of the univariate core, as benchmarked on NAB (bench/nab.ts; results in
 * docs/anomaly.md). One config per variant for every series — nothing is tuned per file. Names
 * contain no '_' because NAB's scorer splits result file names on it.
 */
import { univariateSchema, UnivariateDetector } from './univariate';

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
  /** X2 with the level deviation gated in as the container model does */
  cadWarmupX2Gated: cad({ range: 'warmup', combine: 'gated', span_factor: 2 }),
  /** the container model's combination: level, or CAD scaled by min(1, z/z0) */
  cadGated: cad({ range: 'expanding', combine: 'gated' }),
};

export const DEFAULT_VARIANT = 'cadWarmupX2';
