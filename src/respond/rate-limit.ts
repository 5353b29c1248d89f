/**
 * At most `max` actions in any 60 s. Counted when an action is decided (dry-run included), so a
 * dry run shows the refusals enforcement would meet.
 */
export class RateLimit {
  private readonly times: number[] = [];
  constructor(private readonly max: number, private readonly windowMs = 60_000) {}

  /** Whether one more action fits now (nothing is counted). */
  room(now = Date.now()): boolean {
    while (this.times.length && this.times[0] <= now - this.windowMs) this.times.shift();
    return this.times.length < this.max;
  }

  take(now = Date.now()): boolean {
    if (!this.room(now)) return false;
    this.times.push(now);
    return true;
  }

  /** No action within the window: the limiter holds nothing worth keeping. */
  idle(now = Date.now()): boolean {
    return !this.times.length || this.times[this.times.length - 1] <= now - this.windowMs;
  }
}

export interface BudgetLimits {
  global: number;
  perRule: number;
  perContainer: number;
}

/** Past this many keys, idle per-rule or per-container limiters are swept (containers come and go). */
const SWEEP_AT = 1_000;

/**
 * The global budget and one per rule and one per container: one noisy rule, or one container
 * that keeps getting restarted, spends its own budget, not the one a second incident needs. An
 * action is counted in all three or in none.
 */
export class Budgets {
  private readonly global: RateLimit;
  private readonly rules = new Map<string, RateLimit>();
  private readonly containers = new Map<string, RateLimit>();

  constructor(private readonly limits: BudgetLimits, private readonly windowMs = 60_000) {
    this.global = new RateLimit(limits.global, windowMs);
  }

  /** Takes one action from every budget, or returns why not (nothing is counted then). */
  take(rule: string, container: string, now = Date.now()): string | undefined {
    const r = this.limiter(this.rules, rule, this.limits.perRule, now);
    const c = this.limiter(this.containers, container, this.limits.perContainer, now);
    const per = (n: number) => `${n} action${n === 1 ? '' : 's'} per minute`;
    if (!this.global.room(now)) return `rate limit: ${per(this.limits.global)} reached`;
    if (!r.room(now)) return `rate limit: ${per(this.limits.perRule)} for rule ${rule} reached`;
    if (!c.room(now)) return `rate limit: ${per(this.limits.perContainer)} for this container reached`;
    this.global.take(now);
    r.take(now);
    c.take(now);
    return undefined;
  }

  private limiter(map: Map<string, RateLimit>, key: string, max: number, now: number): RateLimit {
    let l = map.get(key);
    if (!l) {
      if (map.size >= SWEEP_AT) for (const [k, v] of map) if (v.idle(now)) map.delete(k);
      l = new RateLimit(max, this.windowMs);
      map.set(key, l);
    }
    return l;
  }

  /** Limiters held (for tests: the maps stay bounded). */
  get size(): { rules: number; containers: number } {
    return { rules: this.rules.size, containers: this.containers.size };
  }
}
