/**
 * Why dockward is degraded while it keeps running: a component that cannot do part of its job
 * (the spool cannot write, a state file was unreadable and moved aside) says so here, and /health
 * reports every reason beside the sink's own state. A reason is keyed by its component, so one
 * component replaces or clears its own reason without touching the others'. Reasons about a
 * condition that can end (a full disk) are cleared when it ends; reasons about something that
 * happened (a quarantined file) stay for the rest of the run, for the operator to look at.
 */
export interface DegradedReason {
  component: string;
  reason: string;
  /** when this component first became degraded (ISO 8601) */
  since: string;
}

export class Health {
  private readonly reasons = new Map<string, { reason: string; since: number }>();

  /** Marks `component` degraded; a second call updates the reason and keeps the first `since`. */
  degrade(component: string, reason: string): void {
    const known = this.reasons.get(component);
    this.reasons.set(component, { reason, since: known?.since ?? Date.now() });
  }

  clear(component: string): void {
    this.reasons.delete(component);
  }

  get degraded(): boolean {
    return this.reasons.size > 0;
  }

  list(): DegradedReason[] {
    return [...this.reasons].map(([component, r]) => ({ component, reason: r.reason, since: new Date(r.since).toISOString() }));
  }
}
