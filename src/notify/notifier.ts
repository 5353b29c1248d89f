import type { Envelope } from '../ship/envelope';
import type { Telemetry } from '../telemetry/telemetry';
import { Delivery } from './delivery';
import { DockwardError } from '../errors';
import type { Attempt } from './message';
import { createDestination, type NotifyConfig } from './registry';
import { Route } from './router';

export class NotifyError extends DockwardError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Notifications as a listener of the alert path: every alert document, once queued for
 * Elasticsearch, is offered to each route. Offering only updates in-memory groups and pushes to
 * bounded per-destination outboxes, so the detector and the shipping path never wait on a
 * receiver. Secrets are resolved here, at start-up, so a missing variable fails `run` by name.
 */
export class Notifier {
  readonly name = 'notify';
  readonly routes: Route[] = [];
  private readonly deliveries = new Map<string, Delivery>();

  constructor(private readonly cfg: NotifyConfig, private readonly telemetry: Telemetry) {
    const used = new Set(Object.values(cfg.routes).flatMap((r) => r.destinations));
    for (const [name, d] of Object.entries(cfg.destinations)) {
      if (!used.has(name)) continue;
      try {
        this.deliveries.set(name, new Delivery(createDestination(name, d), d, telemetry));
      } catch (err) {
        throw new NotifyError('NOTIFY_DESTINATION_INVALID', `notify.destinations.${name}: ${(err as Error).message}`, { cause: err });
      }
    }
    for (const [name, r] of Object.entries(cfg.routes)) {
      this.routes.push(new Route(name, r, r.destinations.map((d) => this.deliveries.get(d)!), telemetry, { url: cfg.kibana_url, dataView: cfg.kibana_data_view }));
    }
  }

  get active(): boolean {
    return this.cfg.enabled && this.routes.length > 0;
  }

  /** The alert listener. Never throws: a notification bug must not cost an alert document. */
  onAlert(env: Envelope): void {
    if (!this.cfg.enabled) return;
    for (const r of this.routes) {
      try {
        r.offer(env.doc);
      } catch (err) {
        this.telemetry.event('notify.route.error', 'error', `route ${r.name} failed on alert ${env.id}: ${(err as Error).message}`);
      }
    }
  }

  /** Sends a sample alert through one route's destinations now (`dockward notify test`). */
  async test(routeName: string, alert: Record<string, unknown>): Promise<Array<{ destination: string; attempts: Attempt[] }>> {
    const route = this.routes.find((r) => r.name === routeName);
    if (!route) throw new NotifyError('NOTIFY_ROUTE_UNKNOWN', `no route "${routeName}" (routes: ${this.routes.map((r) => r.name).join(', ') || 'none'})`);
    const n = route.testNotification(alert);
    return Promise.all(route.destinations.map(async (d) => ({ destination: d.name, attempts: await d.sendNow(n) })));
  }

  /** Tells open incidents' counts, then gives the outboxes `shutdown_grace` to empty. */
  async stop(): Promise<void> {
    for (const r of this.routes) r.flush();
    await Promise.all([...this.deliveries.values()].map((d) => d.stop(this.cfg.shutdown_grace)));
  }
}
