/**
 * At most `max` actions in any 60 s. Counted when an action is decided (dry-run included), so a
 * dry run shows the refusals enforcement would meet.
 */
export class RateLimit {
  private readonly times: number[] = [];
  constructor(private readonly max: number, private readonly windowMs = 60_000) {}

  take(now = Date.now()): boolean {
    while (this.times.length && this.times[0] <= now - this.windowMs) this.times.shift();
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    return true;
  }
}
