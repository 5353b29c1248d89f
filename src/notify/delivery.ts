import { Counter } from 'prom-client';
import { z } from 'zod';
import { duration } from '../config/units';
import type { Telemetry } from '../telemetry/telemetry';
import type { Attempt, Destination, Notification } from './message';
import { redact } from './secret';

/** Delivery settings every destination type takes beside its own. */
export const deliveryShape = {
  /** One request (or SMTP session). */
  timeout: duration.prefault('10s'),
  /** Tries per message, the first included. */
  max_attempts: z.number().int().min(1).max(20).default(5),
  backoff_initial: duration.prefault('1s'),
  backoff_max: duration.prefault('60s'),
  /** The longest `Retry-After` obeyed; a longer one is cut to this. */
  retry_after_max: duration.prefault('5m'),
  /** Messages waiting for this destination; beyond it the oldest is dropped (and counted). */
  max_pending: z.number().int().min(1).default(100),
  /** Messages failed in a row before the destination is reported down. */
  down_after: z.number().int().min(1).default(3),
};
const deliverySchema = z.object(deliveryShape);
export type DeliveryConfig = z.output<typeof deliverySchema>;

export interface NotifyMetrics {
  messages: Counter<'destination' | 'outcome'>;
  attempts: Counter<'destination' | 'result'>;
}
const metricsByTelemetry = new WeakMap<Telemetry, NotifyMetrics>();

/** Counters are registered once per Telemetry (its registry refuses a second of the same name). */
export function notifyMetrics(t: Telemetry): NotifyMetrics {
  let m = metricsByTelemetry.get(t);
  if (!m) {
    const registers = [t.registry];
    m = {
      messages: new Counter({ name: 'dockward_notifications_total', help: 'Notification messages by destination and final outcome (delivered, failed, dropped, throttled)', labelNames: ['destination', 'outcome'], registers }),
      attempts: new Counter({ name: 'dockward_notification_attempts_total', help: 'Delivery attempts by destination and result (ok, retry, final)', labelNames: ['destination', 'result'], registers }),
    };
    metricsByTelemetry.set(t, m);
  }
  return m;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * One destination's outbox: messages go out one at a time, in order, each retried on its own
 * (429 after its Retry-After, 5xx and no-answer after jittered exponential backoff). It lives
 * beside the shipping path and never in it: enqueue() returns at once, the outbox is bounded, and
 * a destination that keeps failing costs log lines and counters, never Elasticsearch throughput.
 */
export class Delivery {
  private readonly pending: Notification[] = [];
  private running: Promise<void> | undefined;
  private failedInRow = 0;
  private down = false;
  private readonly abort = new AbortController();
  private readonly metrics: NotifyMetrics;

  constructor(readonly dest: Destination, private readonly cfg: DeliveryConfig, private readonly telemetry: Telemetry) {
    this.metrics = notifyMetrics(telemetry);
  }

  get name(): string {
    return this.dest.name;
  }

  enqueue(n: Notification): void {
    if (this.abort.signal.aborted) return;
    if (this.pending.length >= this.cfg.max_pending) {
      const dropped = this.pending.shift()!;
      this.metrics.messages.inc({ destination: this.name, outcome: 'dropped' });
      this.telemetry.event('notify.queue.overflow', 'warn', `notification outbox of ${this.describe()} is full (${this.cfg.max_pending}): dropped the oldest message (${dropped.kind}, route ${dropped.route})`, { notify: { destination: this.name } });
    }
    this.pending.push(n);
    this.running ??= this.pump().finally(() => (this.running = undefined));
  }

  /** Sends one message now with the same retries, returning every attempt (for `dockward notify test`). */
  async sendNow(n: Notification): Promise<Attempt[]> {
    const attempts: Attempt[] = [];
    await this.deliver(n, (a) => attempts.push(a));
    return attempts;
  }

  /** Waits up to `graceMs` for the outbox to empty, then gives up on the rest. */
  async stop(graceMs: number): Promise<void> {
    const idle = this.running ?? Promise.resolve();
    await Promise.race([idle, new Promise((r) => setTimeout(r, graceMs).unref())]);
    this.abort.abort();
    if (this.pending.length) {
      this.metrics.messages.inc({ destination: this.name, outcome: 'dropped' }, this.pending.length);
      this.telemetry.event('notify.stop.unsent', 'warn', `${this.pending.length} notification(s) for ${this.describe()} not sent at shutdown`, { notify: { destination: this.name } });
      this.pending.length = 0;
    }
    await idle.catch(() => undefined);
    await this.dest.close?.();
  }

  private async pump(): Promise<void> {
    while (this.pending.length && !this.abort.signal.aborted) await this.deliver(this.pending.shift()!);
  }

  private describe(): string {
    return `${this.dest.type} "${this.name}"`;
  }

  private async deliver(n: Notification, observe?: (a: Attempt) => void): Promise<boolean> {
    const signal = this.abort.signal;
    let last: Attempt | undefined;
    for (let attempt = 1; attempt <= this.cfg.max_attempts && !signal.aborted; attempt++) {
      try {
        last = await this.dest.send(n, signal);
      } catch (err) {
        // A destination that throws instead of answering is treated as "no answer": retry.
        last = { ok: false, retry: true, detail: (err as Error).message };
      }
      observe?.(last);
      if (last.ok) {
        this.metrics.attempts.inc({ destination: this.name, result: 'ok' });
        this.metrics.messages.inc({ destination: this.name, outcome: 'delivered' });
        if (this.down) this.telemetry.event('notify.destination.recovered', 'info', `${this.describe()} accepts messages again`, { notify: { destination: this.name } });
        this.down = false;
        this.failedInRow = 0;
        return true;
      }
      if (!last.retry || attempt === this.cfg.max_attempts) break;
      this.metrics.attempts.inc({ destination: this.name, result: 'retry' });
      const wait = last.retryAfterMs !== undefined ? Math.min(last.retryAfterMs, this.cfg.retry_after_max) : this.backoff(attempt);
      this.telemetry.event('notify.delivery.retry', 'debug', `${this.describe()}: ${this.clean(last.detail)}; try ${attempt + 1} in ${wait} ms`, { notify: { destination: this.name, status: last.status } });
      await sleep(wait, signal);
    }
    this.metrics.attempts.inc({ destination: this.name, result: 'final' });
    this.metrics.messages.inc({ destination: this.name, outcome: 'failed' });
    this.failedInRow++;
    const why = last ? this.clean(last.detail) : 'stopped';
    this.telemetry.event('notify.delivery.failed', 'warn', `${this.describe()}: ${n.kind} message of route ${n.route} not delivered: ${why}`, { notify: { destination: this.name, route: n.route, status: last && !last.ok ? last.status : undefined } });
    if (this.failedInRow >= this.cfg.down_after && !this.down) {
      this.down = true;
      this.telemetry.event('notify.destination.down', 'error', `${this.describe()} failed ${this.failedInRow} messages in a row (last: ${why}); alerts are still shipped to Elasticsearch`, { notify: { destination: this.name } });
    }
    return false;
  }

  private backoff(attempt: number): number {
    const d = Math.min(this.cfg.backoff_max, this.cfg.backoff_initial * 2 ** (attempt - 1));
    return Math.round(d / 2 + (Math.random() * d) / 2);
  }

  private clean(text: string): string {
    return redact(text, this.dest.secrets());
  }
}
