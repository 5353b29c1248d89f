/**
 * Repeated kernel overruns: one now and then is a busy host, several within a minute is a process
 * storm, possibly made to hide short-lived processes between resyncs (review M2). `report` runs
 * once `threshold` overruns fall within `windowMs`, and at most once per window.
 */
export class OverrunWatch {
  private times: number[] = [];
  private last = -Infinity;

  constructor(
    private readonly report: (count: number, windowMs: number) => void,
    private readonly threshold = 3,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  overrun(): void {
    const t = this.now();
    this.times.push(t);
    while (this.times.length > 0 && t - this.times[0] > this.windowMs) this.times.shift();
    if (this.times.length > this.threshold * 16) this.times.splice(0, this.times.length - this.threshold * 16);
    if (this.times.length < this.threshold || t - this.last < this.windowMs) return;
    this.last = t;
    this.report(this.times.length, this.windowMs);
  }
}
