/**
 * Post-processing of a raw anomaly score into "how unusual is this for this series", after the
 * anomaly likelihood of Numenta's HTM detector (Ahmad, Lavin, Purdy, Agha 2017, "Unsupervised
 * real-time anomaly detection for streaming data", section 3.3; NAB's numenta detector uses it).
 * Written from the paper's description, not from NuPIC's code: the raw score's short moving
 * average is compared with a Gaussian fitted to the moving averages of a long window, and the tail
 * probability becomes the likelihood, reported on a log scale so 0.99999 reads 0.5.
 *
 * Why: CAD's raw score is noisy on a noisy series (every new ordering of values is "novel") and
 * quiet on a regular one; one threshold across series then either floods the noisy ones or misses
 * the quiet ones. The likelihood puts every series on its own scale.
 */

/** erfc, Numerical Recipes' Chebyshev fit (relative error < 1.2e-7): Node has no Math.erfc. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const p =
    -z * z - 1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(p);
  return x >= 0 ? r : 2 - r;
}

export interface LikelihoodOptions {
  /** raw scores ignored at first (the model is still learning; its scores say nothing yet) */
  learn: number;
  /** raw scores after that before the first estimate; the likelihood reads 0.5 until then */
  estimate: number;
  /** moving averages the Gaussian is fitted to (the long window) */
  window: number;
  /** rows between re-estimates (fitting every row would cost window× more) */
  reestimate: number;
  /** raw scores in the short moving average */
  average: number;
  /** the fitted mean's and variance's floors, so a series whose raw score is almost always 0 does not make every blip certain */
  meanFloor?: number;
  varianceFloor?: number;
  /** lower a red right after a red (only rises report); off only to measure what it is worth */
  filter?: boolean;
  /**
   * Fit to exponentially weighted moments of the averages (a plain mean while fewer than
   * window/2 were seen, then a decay of 2/(window+1)) instead of keeping `window` averages:
   * constant memory and state, which a daemon scoring twelve signals per container needs.
   */
  ew?: boolean;
}

export interface LikelihoodState {
  seen: number;
  recent: number[];
  averages: number[];
  mean: number;
  sd: number;
  fitted: boolean;
  prevRed: boolean;
  /** ew only: the weighted moments and how many averages they hold */
  ewMean?: number;
  ewVar?: number;
  ewN?: number;
}

/** likelihood at which a row is "red"; a red right after a red is lowered to "yellow" (only rises report) */
const RED = 1 - 1e-5;
const YELLOW = 1 - 1e-3;
const LOG_1E10 = Math.log(1e-10);

export class Likelihood {
  private s: LikelihoodState = { seen: 0, recent: [], averages: [], mean: 0, sd: 1, fitted: false, prevRed: false };

  constructor(private readonly o: LikelihoodOptions, state?: LikelihoodState) {
    if (state) this.s = { ...state, recent: [...state.recent], averages: [...state.averages] };
  }

  /** Log-scaled likelihood in [0, 1] of `raw` given the raw scores before it. */
  update(raw: number): number {
    const s = this.s;
    const i = s.seen++;
    s.recent.push(raw);
    if (s.recent.length > this.o.average) s.recent.shift();
    let sum = 0;
    for (const x of s.recent) sum += x;
    const avg = sum / s.recent.length;
    if (i >= this.o.learn) {
      if (this.o.ew) this.weigh(avg);
      else {
        s.averages.push(avg);
        if (s.averages.length > this.o.window) s.averages.shift();
      }
    }
    let likelihood = 0.5;
    const start = this.o.learn + this.o.estimate;
    if (i >= start) {
      if (!s.fitted || (i - start) % this.o.reestimate === 0) this.fit();
      // below the mean is not unusual in the direction that matters: a raw score that fell
      const tail = avg < s.mean ? 1 : 0.5 * erfc((avg - s.mean) / s.sd / Math.SQRT2);
      likelihood = 1 - tail;
      const red = likelihood >= RED;
      if (red && s.prevRed && this.o.filter !== false) likelihood = YELLOW;
      s.prevRed = red;
    }
    // likelihood 0 would read a hair below 0 (log of 1 + 1e-10)
    return Math.max(0, Math.log(1 + 1e-10 - likelihood) / LOG_1E10);
  }

  private weigh(avg: number): void {
    const s = this.s;
    const n = s.ewN ?? 0;
    const alpha = Math.max(1 / (n + 1), 2 / (this.o.window + 1));
    const m = s.ewMean ?? 0;
    const d = avg - m;
    s.ewMean = m + alpha * d;
    // n/(n-1)-free form: the same update as level.ts; for a plain mean it is the population variance
    s.ewVar = (1 - alpha) * ((s.ewVar ?? 0) + alpha * d * d);
    s.ewN = n + 1;
  }

  private fit(): void {
    let m = 0;
    let v = 0;
    if (this.o.ew) {
      m = this.s.ewMean ?? 0;
      v = this.s.ewVar ?? 0;
    } else {
      const a = this.s.averages;
      for (const x of a) m += x;
      m /= a.length;
      for (const x of a) v += (x - m) ** 2;
      v /= Math.max(1, a.length - 1);
    }
    this.s.mean = Math.max(m, this.o.meanFloor ?? 0.03);
    this.s.sd = Math.sqrt(Math.max(v, this.o.varianceFloor ?? 0.0003));
    this.s.fitted = true;
  }

  get state(): LikelihoodState {
    return { ...this.s, recent: [...this.s.recent], averages: [...this.s.averages] };
  }
}

/**
 * A value outside everything seen so far, by more than `tolerance` of that range, scores 1 at
 * once (NAB's numenta detector does the same beside its likelihood): a new extreme is the
 * clearest sign there is, and the likelihood's moving average would only see it a few rows later.
 */
export class SpatialRange {
  private min = Infinity;
  private max = -Infinity;
  /** `floor`: the smallest step beyond the range that counts, in the value's unit (a daemon's noise floor) */
  constructor(private readonly tolerance: number, private readonly floor = 0, state?: { min: number | null; max: number | null }, private readonly relative = 0) {
    // JSON turns ±Infinity (nothing seen yet) into null
    if (state) {
      this.min = state.min ?? Infinity;
      this.max = state.max ?? -Infinity;
    }
  }
  update(v: number): number {
    let out = 0;
    // Without a floor a flat series has no scale (its second value would always be "new"); with
    // one, a flat series is the clearest baseline there is: a miner after a container's idle hours.
    if (this.max > this.min || (this.floor > 0 && this.max === this.min)) {
      const t = Math.max((this.max - this.min) * this.tolerance, this.floor);
      if (v > this.max + Math.max(t, Math.abs(this.max) * this.relative) || v < this.min - Math.max(t, Math.abs(this.min) * this.relative)) out = 1;
    }
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    return out;
  }
  get state(): { min: number; max: number } {
    return { min: this.min, max: this.max };
  }
}

/**
 * After a report at or over `threshold`, later reports within `rows` read 0: NAB (and an operator)
 * wants one report per event, and every further row over the threshold outside a window is a
 * false positive. Reports the hold removed do not extend it.
 */
export class Hold {
  private last = -Infinity;
  private i = 0;
  constructor(private readonly rows: number, private readonly threshold: number) {}
  apply(score: number): number {
    const i = this.i++;
    if (score < this.threshold) return score;
    if (i - this.last <= this.rows) return 0;
    this.last = i;
    return score;
  }
}
