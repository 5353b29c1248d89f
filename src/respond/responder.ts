import type Docker from 'dockerode';
import { Counter } from 'prom-client';
import { DockwardError } from '../errors';
import { containerOf } from '../notify/selector';
import type { Envelope } from '../ship/envelope';
import type { Telemetry } from '../telemetry/telemetry';
import { perform } from './actions';
import { AuditWriter, auditId, type AuditInput } from './audit';
import { Policy, type RespondConfig } from './policy';
import { RateLimit } from './rate-limit';
import { ownContainerId } from './self';

export class ResponseError extends DockwardError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

type Doc = Record<string, unknown>;
interface Told {
  audit_id: string;
  audit_index: string;
  action: string;
  mode: string;
  outcome: string;
}

/**
 * Response actions on the alert path. `annotate` runs before an alert is queued and is
 * synchronous and I/O-free: it decides (policy, self, lists, repeats, rate limit) and writes the
 * decision and the audit document's id into the alert, so the alert in Elasticsearch points at
 * its audit document. Enforcement then happens off the path; its audit document (done or failed)
 * follows when the engine answers. One decision per incident: a summary alert points at the
 * first alert's decision.
 */
export class Responder {
  readonly name = 'respond';
  private readonly policy: Policy;
  private readonly limit: RateLimit;
  private readonly audit: AuditWriter;
  private readonly decided = new Map<string, Told>();
  /** Containers acted on (or that would have been, in dry-run): one action per container. */
  private readonly acted = new Map<string, string>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly counter: Counter<'action' | 'outcome'>;
  readonly selfId: string | undefined;

  constructor(private readonly cfg: RespondConfig, namespace: string, private readonly docker: Docker, private readonly push: (env: Envelope) => void, private readonly telemetry: Telemetry, selfId = ownContainerId()) {
    this.selfId = selfId;
    this.policy = new Policy(cfg, selfId);
    this.limit = new RateLimit(cfg.rate_limit);
    this.audit = new AuditWriter(namespace);
    this.counter = new Counter({ name: 'dockward_responses_total', help: 'Response decisions by action and outcome (done, dry_run, refused, failed)', labelNames: ['action', 'outcome'], registers: [telemetry.registry] });
    if (cfg.enabled) {
      telemetry.event('respond.started', cfg.mode === 'enforce' ? 'warn' : 'info', `response actions on, mode ${cfg.mode}, ${cfg.policies.length} policies, at most ${cfg.rate_limit} per minute${selfId ? `; never acting on own container ${selfId.slice(0, 12)}` : ''}`);
    }
  }

  /** Before queueing: decide, and write `dockward.alert.response` into the alert. Never throws. */
  annotate(env: Envelope): void {
    if (!this.cfg.enabled) return;
    try {
      const told = this.decide(env);
      if (told) {
        const dw = (env.doc.dockward ??= {}) as Doc;
        const alert = (dw.alert ??= {}) as Doc;
        alert.response = told;
      }
    } catch (err) {
      this.telemetry.event('respond.error', 'error', `response decision failed on alert ${env.id}: ${(err as Error).message}`);
    }
  }

  /** Waits for actions under way (shutdown): their audit documents are queued before the sink stops. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private decide(env: Envelope): Told | undefined {
    const doc = env.doc;
    const alertFields = ((doc.dockward as Doc | undefined)?.alert ?? {}) as { group_id?: string; summary?: boolean };
    const groupId = alertFields.group_id ?? env.id;
    const earlier = this.decided.get(groupId);
    if (earlier) return earlier;
    // A summary without a remembered first (e.g. after a restart) is not a new incident to act on.
    if (alertFields.summary) return undefined;
    const container = containerOf(doc);
    const d = this.policy.decide(doc, container);
    if (d.kind === 'none') return undefined;
    const base = { alert: env, action: d.action, mode: this.cfg.mode, policy: d.policy } as const;
    let input: AuditInput;
    if (d.kind === 'refused') input = { ...base, outcome: 'refused', reason: d.reason };
    else if (this.acted.has(container.id!)) input = { ...base, outcome: 'refused', reason: `already handled for this container (${this.acted.get(container.id!)})` };
    else if (!this.limit.take()) input = { ...base, outcome: 'refused', reason: `rate limit: ${this.cfg.rate_limit} actions per minute reached` };
    else {
      this.acted.set(container.id!, `${this.cfg.mode === 'enforce' ? '' : 'dry run: '}${d.action} for rule ${String((doc.rule as Doc).id)}`);
      if (this.cfg.mode === 'dry_run') input = { ...base, outcome: 'dry_run', reason: d.reason };
      else {
        const p = this.enforce({ ...base, outcome: 'done', reason: d.reason }, container.id!).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
        return this.remember(groupId, d.action, 'requested');
      }
    }
    this.write(input);
    return this.remember(groupId, d.action, input.outcome);
  }

  private async enforce(input: AuditInput, id: string): Promise<void> {
    const t0 = Date.now();
    try {
      const r = await perform(this.docker, input.action, id, { stopTimeoutMs: this.cfg.stop_timeout, killSignal: this.cfg.kill_signal });
      this.write({ ...input, detail: r.detail, networks: r.networks, durationMs: Date.now() - t0 });
    } catch (err) {
      const e = err as Error & { statusCode?: number; json?: { message?: string } };
      const message = e.json?.message ?? e.message;
      this.write({ ...input, outcome: 'failed', error: { code: e.statusCode ? `HTTP_${e.statusCode}` : 'ENGINE', message }, durationMs: Date.now() - t0 });
    }
  }

  private write(input: AuditInput): void {
    const env = this.audit.build(input);
    this.counter.inc({ action: input.action, outcome: input.outcome });
    const level = input.outcome === 'failed' ? 'error' : input.outcome === 'done' ? 'warn' : 'info';
    this.telemetry.event(`respond.${input.outcome}`, level, String(env.doc.message), { dockward: { response: { audit_id: env.id, action: input.action } } });
    this.push(env);
  }

  private remember(groupId: string, action: string, outcome: string): Told {
    const told: Told = { audit_id: auditId(groupId), audit_index: this.audit.index, action, mode: this.cfg.mode, outcome };
    this.decided.set(groupId, told);
    // Incidents are remembered for their summaries; the oldest go first past a bound.
    if (this.decided.size > 10_000) this.decided.delete(this.decided.keys().next().value!);
    return told;
  }
}
