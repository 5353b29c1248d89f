import { z } from 'zod';
import { duration } from '../config/units';

export const throttleConfig = z
  .object({
    /** Messages a route may send per `per`; 0 turns the cap off. */
    max: z.number().int().min(0).default(20),
    per: duration.prefault('10m'),
  })
  .strict()
  .prefault({});
export type ThrottleConfig = z.output<typeof throttleConfig>;

/**
 * A sliding-window cap on one route's messages. A sliding window (not a token bucket that refills
 * continuously) so that "at most N in any 10 minutes" holds exactly as an operator reads it.
 */
export class Throttle {
  private readonly sent: number[] = [];

  constructor(private readonly cfg: ThrottleConfig) {}

  take(now = Date.now()): boolean {
    if (this.cfg.max === 0) return true;
    while (this.sent.length && this.sent[0] <= now - this.cfg.per) this.sent.shift();
    if (this.sent.length >= this.cfg.max) return false;
    this.sent.push(now);
    return true;
  }
}
