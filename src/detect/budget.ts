/**
 * A per-container time budget for rule evaluation: a token bucket in milliseconds of main-thread
 * time. Each container may spend `rate` ms per second, with bursts up to `burst` ms; a container
 * whose documents cost more (an exec flood of crafted command lines) has the rest of them shipped
 * without detection, counted, and reported as tampering, so one container cannot saturate the
 * thread that every other container's detection, shipping and /health share.
 */
export class EvaluationBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number = () => performance.now()) {}

  /** True when `container` may run rules on its next document. */
  allows(container: string): boolean {
    if (this.rate <= 0) return true;
    return this.refill(container).tokens > 0;
  }

  spend(container: string, ms: number): void {
    if (this.rate <= 0) return;
    this.refill(container).tokens -= ms;
  }

  private refill(container: string): { tokens: number; at: number } {
    const t = this.now();
    let b = this.buckets.get(container);
    if (!b) {
      if (this.buckets.size >= 4096) this.evictFull(t);
      b = { tokens: this.burst, at: t };
      this.buckets.set(container, b);
      return b;
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    return b;
  }

  /** Buckets that have refilled are the same as new ones: forget them. */
  private evictFull(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(k);
  }
}
