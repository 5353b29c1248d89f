import { baseFields } from '../enrich/ecs';
import { deterministicId, streamName, type Envelope } from '../ship/envelope';
import type { Action } from './policy';

export const AUDIT_DATASET = 'dockward.audit';
export type AuditOutcome = 'done' | 'dry_run' | 'refused' | 'failed';

export interface AuditInput {
  alert: Envelope;
  action: Action;
  mode: 'dry_run' | 'enforce';
  outcome: AuditOutcome;
  reason: string;
  policy: number;
  detail?: string;
  networks?: string[];
  error?: { code?: string; message: string };
  durationMs?: number;
}

const VERB: Record<Action, [string, string]> = {
  pause: ['pause', 'paused'],
  stop: ['stop', 'stopped'],
  kill: ['kill', 'killed'],
  disconnect: ['disconnect', 'disconnected'],
};

/** One id per incident (the detector's group): the first and the summary alert point at the same decision. */
export function auditId(groupId: string): string {
  return deterministicId(groupId, 'response');
}

/** Builds `logs-dockward.audit-<ns>` documents: one per decision, whatever its outcome. */
export class AuditWriter {
  readonly index: string;
  private readonly base: Record<string, unknown>;

  constructor(namespace: string) {
    this.index = streamName('logs', AUDIT_DATASET, namespace);
    this.base = baseFields('logs', AUDIT_DATASET, namespace);
  }

  build(a: AuditInput): Envelope {
    const doc = a.alert.doc;
    const container = doc.container as { name?: string } | undefined;
    const rule = doc.rule as { id?: string; name?: string } | undefined;
    const alertFields = (doc.dockward as { alert?: { group_id?: string } } | undefined)?.alert;
    const groupId = alertFields?.group_id ?? a.alert.id;
    const [verb, past] = VERB[a.action];
    const who = container?.name ?? 'the host';
    const message = {
      done: `${past} ${who}: ${a.detail ?? past} (rule ${rule?.id})`,
      dry_run: `dry run: would ${verb} ${who} (rule ${rule?.id}, ${a.reason})`,
      refused: `refused to ${verb} ${who}: ${a.reason} (rule ${rule?.id})`,
      failed: `failed to ${verb} ${who}: ${a.error?.message ?? 'unknown error'} (rule ${rule?.id})`,
    }[a.outcome];
    return {
      index: this.index,
      id: auditId(groupId),
      doc: {
        '@timestamp': new Date().toISOString(),
        message,
        event: {
          kind: 'event',
          category: ['process'],
          type: [a.outcome === 'refused' ? 'denied' : a.outcome === 'done' ? 'change' : 'info'],
          action: `container-${a.action}`,
          outcome: a.outcome === 'done' ? 'success' : a.outcome === 'failed' ? 'failure' : 'unknown',
          reason: a.reason,
          dataset: AUDIT_DATASET,
          module: 'dockward',
          created: new Date().toISOString(),
        },
        container: doc.container,
        rule: rule ? { id: rule.id, name: rule.name } : undefined,
        error: a.error ? { code: a.error.code, message: a.error.message } : undefined,
        dockward: {
          response: {
            action: a.action,
            mode: a.mode,
            outcome: a.outcome,
            reason: a.reason,
            policy: a.policy,
            detail: a.detail,
            networks: a.networks,
            duration_ms: a.durationMs,
            alert: { index: a.alert.index, id: a.alert.id, group_id: groupId },
          },
        },
        ...this.base,
      },
    };
  }
}
