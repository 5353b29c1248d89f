/**
 * The univariate online core: one value in, one score in [0, 1] out, using only the values before
 * and at it. CAD OSE on a quantised value, with the value range either given (NAB hands every
 * detector the file's min/max — that peeks at the future, kept only to reproduce the published
 * CAD OSE figure) or learned from the warm-up samples alone (what a daemon can do).
 */
import { z } from 'zod';
import { Cad, RestSuppressor, type CadState } from './cad';
import { LevelBaseline, type LevelState } from './level';

export const univariateSchema = z.object({
  /** bits of the quantised value; each bit is a CAD fact */
  bits: z.number().int().min(1).max(8).default(3),
  /** how the quantiser's range is found: the warm-up samples; every sample so far; given by the caller */
  range: z.enum(['warmup', 'expanding', 'given']).default('expanding'),
  /**
   * The quantiser spans this many times the learned range, centred on it: NAB's given range holds
   * the anomalies too, so ordinary values fill only part of it; a learned range must leave that room.
   */
  span_factor: z.number().min(1).default(1),
  /** smallest range the quantiser will use, so a flat warm-up does not make every wobble a new bin */
  min_span: z.number().nonnegative().default(0),
  /** samples before the range is frozen and scores are trusted */
  warmup: z.number().int().min(1).default(750),
  /** CAD's suppression after a score ≥ base_threshold, as a fraction of the warm-up */
  rest_fraction: z.number().min(0).max(1).default(0.2),
  base_threshold: z.number().min(0).max(1).default(0.75),
  max_left_semi_contexts_length: z.number().int().min(1).default(7),
  max_active_neurons: z.number().int().min(1).default(15),
  /**
   * How CAD's score and the level deviation combine: CAD alone; the larger of the two; or
   * 'gated': the level, or CAD scaled down by how close the value is to its baseline (z/z0), so a
   * new ordering of ordinary values (CAD's novelty on noise) cannot alone make a high score.
   */
  combine: z.enum(['cad', 'max', 'gated']).default('gated'),
  /** samples the level baseline averages over */
  level_span: z.number().int().min(2).default(500),
  /** the level's smallest standard deviation, as a share of the learned range */
  level_floor_share: z.number().min(0).default(0.05),
  z0: z.number().min(0).default(3),
  z_range: z.number().positive().default(3),
  /** memory bound: contexts past this are not learned */
  max_contexts: z.number().int().min(100).default(20000),
});
export type UnivariateConfig = z.infer<typeof univariateSchema>;

export interface UnivariateState {
  min: number;
  max: number;
  seen: number;
  cad: Omit<CadState, 'history'>;
  history: number[];
  level: LevelState;
}

export class UnivariateDetector {
  private cad: Cad;
  private rest: RestSuppressor;
  private level: LevelBaseline;
  private min = Infinity;
  private max = -Infinity;
  private seen = 0;
  private readonly restPeriod: number;

  constructor(private readonly c: UnivariateConfig, given?: { min: number; max: number }, restore?: UnivariateState) {
    this.cad = new Cad({
      baseThreshold: c.base_threshold,
      restPeriod: 0,
      maxLeftSemiContextsLength: c.max_left_semi_contexts_length,
      maxActiveNeurons: c.max_active_neurons,
      maxContexts: c.max_contexts,
    });
    this.restPeriod = c.warmup * c.rest_fraction;
    if (given) {
      this.min = given.min;
      this.max = given.max;
    }
    if (restore) {
      this.min = restore.min;
      this.max = restore.max;
      this.seen = restore.seen;
      this.cad.restore(restore.cad);
    }
    this.level = new LevelBaseline(c.level_span, c.z0, c.z_range, restore?.level);
    this.rest = new RestSuppressor(this.restPeriod, c.base_threshold, restore?.history);
  }

  get warm(): boolean {
    return this.seen >= this.c.warmup;
  }

  get baselineMean(): number {
    return this.level.state.mean;
  }

  get contexts(): number {
    return this.cad.contextCount;
  }

  /**
   * `cad`: CAD's raw score; `level`: the level deviation; `raw`: their combination; `score`: the
   * combination after CAD's rest-period suppression (what NAB scores: it counts every row over
   * the threshold outside a window as a false positive, so one report per event is what pays).
   */
  update(value: number, minSd = 0): { cad: number; level: number; raw: number; score: number } {
    const cad = this.cadScore(value);
    const span = Number.isFinite(this.max - this.min) ? this.max - this.min : 0;
    const lv = this.level.update(value, Math.max(minSd, this.c.level_floor_share * span, 1e-9));
    const level = lv.score;
    const raw =
      this.c.combine === 'cad' ? cad : this.c.combine === 'max' ? Math.max(cad, level) : Math.max(level, cad * Math.min(1, lv.z / this.c.z0));
    return { cad, level, raw, score: this.rest.apply(raw) };
  }

  /**
   * CAD's raw score alone, learning the range and the contexts: all the per-signal core (core.ts)
   * uses, so it skips the level baseline and the rest period `update` adds for the variants.
   */
  cadScore(value: number): number {
    if (this.c.range === 'expanding' || (this.c.range === 'warmup' && this.seen < this.c.warmup)) {
      if (value < this.min) this.min = value;
      if (value > this.max) this.max = value;
    }
    this.seen++;
    return this.cad.step(this.facts(value));
  }

  /** CAD OSE's encoding: bit k of the bin index becomes fact 2k (bit clear) or 2k+1 (set). */
  private facts(value: number): number[] {
    const maxBin = 2 ** this.c.bits - 1;
    let learned = this.max - this.min;
    if (!(learned > 0)) learned = maxBin / this.c.span_factor;
    const span = Math.max(learned * this.c.span_factor, this.c.min_span);
    const lo = this.min - (span - learned) / 2;
    const step = span / maxBin;
    let bin = Math.trunc((value - lo) / step);
    const out: number[] = [];
    if (bin < 0) {
      // below the learned range: its own fact, plus the magnitude as usual
      out.push(1000);
      bin = -bin;
    }
    // Past the learned range the index simply needs more bits: new facts, hence novelty.
    bin = Math.min(bin, 2 ** (this.c.bits + 6) - 1);
    const width = Math.max(this.c.bits, bin.toString(2).length);
    for (let k = 0; k < width; k++) out.push(k * 2 + ((bin >> k) & 1));
    return out;
  }

  snapshot(): UnivariateState {
    return { min: this.min, max: this.max, seen: this.seen, cad: this.cad.snapshot(), history: this.rest.state, level: this.level.state };
  }
}
