import type { Envelope } from '../ship/envelope';
import type { Telemetry } from '../telemetry/telemetry';

export interface AlertListener {
  readonly name: string;
  /** Before the alert is queued: synchronous, no I/O (may add fields to the alert, e.g. the responder's decision). */
  annotate?(env: Envelope): void;
  /** After the alert is queued: must return at once (queue work, never await a destination). */
  onAlert?(env: Envelope): void;
}

/**
 * The detector's alerts, fanned out to notifications and responses. The queue push sits between
 * the two phases, so an alert reaches Elasticsearch whatever a listener does: listener errors are
 * logged and counted, never thrown back into detection.
 */
export class AlertBus {
  private readonly listeners: AlertListener[] = [];

  constructor(private readonly telemetry: Telemetry) {}

  add(l: AlertListener): void {
    this.listeners.push(l);
  }

  get size(): number {
    return this.listeners.length;
  }

  publish(env: Envelope, queue: (env: Envelope) => void): void {
    for (const l of this.listeners) if (l.annotate) this.guard(l, env, () => l.annotate!(env));
    queue(env);
    for (const l of this.listeners) if (l.onAlert) this.guard(l, env, () => l.onAlert!(env));
  }

  private guard(l: AlertListener, env: Envelope, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.telemetry.event('alert.listener.error', 'error', `${l.name} failed on alert ${env.id}: ${(err as Error).message}`);
    }
  }
}
