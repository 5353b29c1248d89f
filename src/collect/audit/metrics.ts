import { Counter, Gauge } from 'prom-client';
import type { CollectorContext } from '../collector';
import type { SourceStats } from '../kernel/source';
import { metricMaker } from '../kernel/metrics';

/** The audit exec source's Prometheus metrics (one set per registry, shared by restarts). */
export function auditMetrics(ctx: CollectorContext) {
  const { r, get } = metricMaker(ctx);
  return {
    records: get('dockward_audit_records_total', () => new Counter({ name: 'dockward_audit_records_total', help: 'Audit records read from the multicast group (every tool\'s rules, every process of the host)', registers: r })),
    events: get('dockward_audit_events_total', () => new Counter({ name: 'dockward_audit_events_total', help: 'Exec events: joined to a container exec, unmatched (host processes, mostly), failed execs', labelNames: ['result'], registers: r })),
    fallback: get('dockward_audit_proc_fallback_total', () => new Counter({ name: 'dockward_audit_proc_fallback_total', help: 'Container exec starts whose audit event did not come within join_wait: /proc\'s reading was used', registers: r })),
    parseErrors: get('dockward_audit_parse_errors_total', () => new Counter({ name: 'dockward_audit_parse_errors_total', help: 'Audit records that are not audit text, and events whose SYSCALL record never came', registers: r })),
    overflow: get('dockward_audit_overflow_total', () => new Counter({ name: 'dockward_audit_overflow_total', help: 'Bounds reached: args_cut (max_args/max_arg_bytes/max_records_per_event), eoe_timeout, open_events, join_waiting, socket_overrun (records dropped by the kernel)', labelNames: ['reason'], registers: r })),
    restored: get('dockward_audit_rules_restored_total', () => new Counter({ name: 'dockward_audit_rules_restored_total', help: 'dockward exec rules added again after someone removed them', registers: r })),
    lost: get('dockward_audit_lost', () => new Gauge({ name: 'dockward_audit_lost', help: 'Records the kernel could not deliver since the start (audit_status.lost: backlog or rate limit)', registers: r })),
    backlog: get('dockward_audit_backlog', () => new Gauge({ name: 'dockward_audit_backlog', help: 'Records waiting in the kernel\'s audit queue', registers: r })),
    available: get('dockward_audit_available', () => new Gauge({ name: 'dockward_audit_available', help: '1 when exec identity comes from the audit subsystem', registers: r })),
  };
}

type Audit = NonNullable<SourceStats['audit']>;

/** Worker counters are totals: the Prometheus counters grow by the difference. */
export function recordAudit(m: ReturnType<typeof auditMetrics>, prev: Audit | undefined, s: Audit): void {
  const inc = (c: Counter<string>, key: keyof Audit, labels?: Record<string, string>) => {
    const d = Number(s[key] ?? 0) - Number(prev?.[key] ?? 0);
    if (d > 0) (labels ? c.inc(labels, d) : c.inc(d));
  };
  inc(m.records, 'records');
  inc(m.events, 'joined', { result: 'joined' });
  inc(m.events, 'unmatched', { result: 'unmatched' });
  inc(m.events, 'failed', { result: 'failed' });
  inc(m.fallback, 'procOnly');
  inc(m.parseErrors, 'parseErrors');
  inc(m.overflow, 'cut', { reason: 'args_cut' });
  inc(m.overflow, 'timeouts', { reason: 'eoe_timeout' });
  inc(m.overflow, 'overflow', { reason: 'open_events' });
  inc(m.overflow, 'heldOverflow', { reason: 'join_waiting' });
  inc(m.overflow, 'overruns', { reason: 'socket_overrun' });
  inc(m.restored, 'restored');
  m.lost.set(s.lost ?? 0);
  m.backlog.set(s.backlog ?? 0);
  m.available.set(s.running ? 1 : 0);
}
