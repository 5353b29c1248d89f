/**
 * Level deviation against a slowly moving baseline (exponentially weighted mean and variance).
 * CAD answers "is this sequence new?" and forgets a new level within a few steps, once it has
 * learned it; a miner pinning the CPU must stay visible for as long as it runs, so this part keeps
 * scoring the distance from the learned baseline, and while it is far off the baseline learns ten
 * times slower (an attacker should not become the norm in minutes).
 */
export interface LevelState {
  mean: number;
  variance: number;
  n: number;
}

export class LevelBaseline {
  private mean = 0;
  private variance = 0;
  private n = 0;

  constructor(
    /** samples the baseline averages over (EWMA span) */
    private readonly span: number,
    /** z beyond which the score starts rising, and the z-distance over which it reaches 1 */
    private readonly z0 = 3,
    private readonly zRange = 3,
    state?: LevelState,
  ) {
    if (state) ({ mean: this.mean, variance: this.variance, n: this.n } = state);
  }

  /**
   * Score of `x` against the baseline before `x`, then learn `x`. `floor`: the smallest standard
   * deviation assumed, in the signal's unit, so a flat baseline is not infinitely sensitive.
   */
  update(x: number, floor: number): { score: number; z: number } {
    let score = 0;
    let z = 0;
    if (this.n > 0) {
      const sd = Math.max(Math.sqrt(this.variance), floor);
      z = Math.abs(x - this.mean) / sd;
      score = Math.min(1, Math.max(0, (z - this.z0) / this.zRange));
    }
    // The first samples average plainly, so the baseline does not start from 0.
    let alpha = this.n < this.span ? 1 / (this.n + 1) : 2 / (this.span + 1);
    if (score > 0.5) alpha /= 10;
    const d = x - this.mean;
    this.mean += alpha * d;
    this.variance = (1 - alpha) * (this.variance + alpha * d * d);
    this.n++;
    return { score, z };
  }

  get state(): LevelState {
    return { mean: this.mean, variance: this.variance, n: this.n };
  }
}
