import { Counter, Gauge, type Registry } from 'prom-client';
import type { Telemetry } from '../telemetry/telemetry';

/**
 * The risk score's and the signals' counters, registered once per registry: a test may build
 * several detectors on one Telemetry, and prom-client refuses a second metric of the same name.
 */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function signalsOpened(t: Telemetry): Counter<'rule'> {
  const name = 'dockward_signals_total';
  return once(t.registry, name, () => new Counter({ name, help: 'Signal groups opened (building-block findings: never paged), by rule', labelNames: ['rule'], registers: [t.registry] }));
}

export interface RiskMetrics {
  findings: Counter<'class'>;
  alerts: Counter;
  evicted: Counter<'what'>;
  containers: Gauge;
}

export function riskMetrics(t: Telemetry): RiskMetrics {
  const r = [t.registry];
  return {
    findings: once(t.registry, 'dockward_risk_findings_total', () => new Counter({ name: 'dockward_risk_findings_total', help: 'Findings added to container risk scores, by class (signal, alert, anomaly)', labelNames: ['class'], registers: r })),
    alerts: once(t.registry, 'dockward_risk_alerts_total', () => new Counter({ name: 'dockward_risk_alerts_total', help: 'Risk threshold alerts raised', registers: r })),
    evicted: once(t.registry, 'dockward_risk_evicted_total', () => new Counter({ name: 'dockward_risk_evicted_total', help: 'Risk state left out at its cap: the least recent container, or a container\'s smallest contributor', labelNames: ['what'], registers: r })),
    containers: once(t.registry, 'dockward_risk_containers', () => new Gauge({ name: 'dockward_risk_containers', help: 'Containers with a risk score held in memory', registers: r })),
  };
}
