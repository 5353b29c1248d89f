import { z } from 'zod';
import { glob } from '../config/glob';
import { duration } from '../config/units';
import type { Telemetry } from '../telemetry/telemetry';
import type { Delivery } from './delivery';
import { notifyMetrics } from './delivery';
import { kibanaLink, type Notification } from './message';
import { Throttle, throttleConfig } from './throttle';

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
const severity = z.enum(SEVERITIES);

export const routeConfig = z
  .object({
    /** Destination names (keys of notify.destinations). */
    destinations: z.array(z.string().min(1)).min(1),
    /** Every condition given must hold; an empty match takes every alert. */
    match: z
      .object({
        min_severity: severity.optional(),
        severity: z.array(severity).optional(),
        /** Rule ids (globs). */
        rules: z.array(z.string()).optional(),
        /** Any of these rule tags. */
        tags: z.array(z.string()).optional(),
        /** All of these container labels (values are globs). */
        labels: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .prefault({}),
    /** Repeats of a rule on a container within this window are one message now and one summary at its end. */
    group_window: duration.prefault('10m'),
    throttle: throttleConfig,
  })
  .strict();
export type RouteConfig = z.output<typeof routeConfig>;

type Doc = Record<string, unknown>;
interface AlertFields {
  group_id?: string;
  count?: number;
  first_seen?: string;
  last_seen?: string;
  summary?: boolean;
  severity?: string;
}

interface Incident {
  first: string;
  last: string;
  latest: Doc;
  /** Findings not yet told. */
  pending: number;
  total: number;
  timer: NodeJS.Timeout;
}

/** Detector group ids remembered (with the count already told) to count only what is new. */
const SEEN_MAX = 20_000;

/**
 * One route: which alerts (match), grouped how (per rule and container, `group_window`), how
 * often (throttle), to which destinations. The detector already folds repeats into a first alert
 * and a summary per its window; a route folds those again over its own, usually longer, window so
 * a chat channel sees one message per incident and one count, whatever the detector's timing.
 */
export class Route {
  private readonly incidents = new Map<string, Incident>();
  private readonly seen = new Map<string, number>();
  private readonly throttle: Throttle;
  private readonly ruleMatchers: Array<(s: string) => boolean> | undefined;
  private readonly labelMatchers: Array<[string, (s: string) => boolean]>;
  private suppressed = 0;

  constructor(
    readonly name: string,
    private readonly cfg: RouteConfig,
    private readonly deliveries: Delivery[],
    private readonly telemetry: Telemetry,
    private readonly kibana: { url?: string; dataView?: string },
  ) {
    this.throttle = new Throttle(cfg.throttle);
    this.ruleMatchers = cfg.match.rules?.map(glob);
    this.labelMatchers = Object.entries(cfg.match.labels ?? {}).map(([k, v]) => [k, glob(v)]);
  }

  matches(alert: Doc): boolean {
    const m = this.cfg.match;
    const dw = ((alert.dockward as Doc | undefined)?.alert ?? {}) as AlertFields;
    const sev = SEVERITIES.indexOf((dw.severity ?? '') as (typeof SEVERITIES)[number]);
    if (m.min_severity && sev < SEVERITIES.indexOf(m.min_severity)) return false;
    if (m.severity && !m.severity.includes(dw.severity as (typeof SEVERITIES)[number])) return false;
    const ruleId = String((alert.rule as Doc | undefined)?.id ?? '');
    if (this.ruleMatchers && !this.ruleMatchers.some((r) => r(ruleId))) return false;
    const tags = Array.isArray(alert.tags) ? alert.tags.map(String) : [];
    if (m.tags && !m.tags.some((t) => tags.includes(t))) return false;
    const labels = ((alert.container as Doc | undefined)?.labels ?? {}) as Record<string, string>;
    return this.labelMatchers.every(([k, g]) => labels[k] !== undefined && g(labels[k]));
  }

  /** Takes an alert document if it matches; never blocks (delivery is queued per destination). */
  offer(alert: Doc): boolean {
    if (!this.matches(alert)) return false;
    const dw = ((alert.dockward as Doc).alert ?? {}) as AlertFields;
    const groupId = dw.group_id ?? '';
    const count = dw.count ?? 1;
    const told = this.seen.get(groupId) ?? 0;
    const delta = count - told;
    // A re-sent alert document (same group, no new findings) is not news.
    if (delta <= 0) return true;
    this.remember(groupId, count);
    const key = `${String((alert.rule as Doc).id)}\u0000${String((alert.container as Doc | undefined)?.id ?? 'host')}`;
    const now = new Date().toISOString();
    const inc = this.incidents.get(key);
    if (inc) {
      inc.pending += delta;
      inc.total += delta;
      inc.last = dw.last_seen ?? now;
      inc.latest = alert;
      return true;
    }
    const timer = setTimeout(() => this.close(key), this.cfg.group_window);
    timer.unref();
    const opened: Incident = { first: dw.first_seen ?? now, last: dw.last_seen ?? now, latest: alert, pending: 0, total: delta, timer };
    this.incidents.set(key, opened);
    this.emit({ kind: dw.summary ? 'summary' : 'alert', count: delta, total: delta, alert, firstSeen: opened.first, lastSeen: opened.last });
    return true;
  }

  /** Closes every open incident now (shutdown): counts are told rather than lost. */
  flush(): void {
    for (const key of [...this.incidents.keys()]) this.close(key);
  }

  /** A sample alert through this route's destinations, bypassing match, grouping and throttle. */
  testNotification(alert: Doc): Notification {
    const now = new Date().toISOString();
    return { kind: 'test', route: this.name, alert, count: 1, total: 1, firstSeen: now, lastSeen: now, suppressed: 0, kibanaUrl: this.link(alert) };
  }

  get destinations(): Delivery[] {
    return this.deliveries;
  }

  private close(key: string): void {
    const inc = this.incidents.get(key);
    if (!inc) return;
    clearTimeout(inc.timer);
    this.incidents.delete(key);
    if (inc.pending > 0) this.emit({ kind: 'summary', count: inc.pending, total: inc.total, alert: inc.latest, firstSeen: inc.first, lastSeen: inc.last });
  }

  private emit(n: Omit<Notification, 'route' | 'suppressed' | 'kibanaUrl'>): void {
    const metrics = notifyMetrics(this.telemetry);
    if (!this.throttle.take()) {
      this.suppressed++;
      for (const d of this.deliveries) metrics.messages.inc({ destination: d.name, outcome: 'throttled' });
      this.telemetry.event('notify.route.throttled', 'debug', `route ${this.name}: ${n.kind} message held back (cap ${this.cfg.throttle.max} per ${this.cfg.throttle.per} ms)`, { notify: { route: this.name } });
      return;
    }
    const full: Notification = { ...n, route: this.name, suppressed: this.suppressed, kibanaUrl: this.link(n.alert) };
    this.suppressed = 0;
    for (const d of this.deliveries) d.enqueue(full);
  }

  private link(alert: Doc): string | undefined {
    const groupId = String((((alert.dockward as Doc | undefined)?.alert ?? {}) as AlertFields).group_id ?? '');
    return kibanaLink(this.kibana.url, groupId, this.kibana.dataView);
  }

  private remember(groupId: string, count: number): void {
    this.seen.delete(groupId);
    this.seen.set(groupId, count);
    // Map keeps insertion order: the first key is the least recently told group.
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.keys().next().value!);
  }
}
