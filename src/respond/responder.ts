import type Docker from 'dockerode';
import { Counter } from 'prom-client';
import type { EngineEvent } from '../docker/event-stream';
import { DockwardError } from '../errors';
import { containerOf, type ContainerFacts } from '../notify/selector';
import type { Envelope } from '../ship/envelope';
import type { Telemetry } from '../telemetry/telemetry';
import { perform } from './actions';
import { AuditWriter, auditId, type AuditInput } from './audit';
import { ImageLabelCache } from './image-labels';
import { Policy, type Decision, type RespondConfig } from './policy';
import { Budgets } from './rate-limit';
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

/** Engine events after which a container acted on runs (or is reachable) again. */
const REARM: Record<string, readonly string[]> = { container: ['unpause', 'start', 'destroy'], network: ['connect'] };
/** Past this many containers remembered as acted on, expired entries are swept. */
const SWEEP_AT = 1_000;

/**
 * Response actions on the alert path. `annotate` runs before an alert is queued and is
 * synchronous and I/O-free: it decides (policy, self, evidence, lists, repeats, rate limits) and
 * writes the decision and the audit document's id into the alert, so the alert in Elasticsearch
 * points at its audit document. Enforcement then happens off the path; its audit document (done
 * or failed) follows when the engine answers. One decision per incident: a summary alert points
 * at the first alert's decision. The one decision that needs the engine first, whether an
 * allow-list label is the container's own or its image's, is told `pending` and audited when the
 * image's labels are known.
 */
export class Responder {
  readonly name = 'respond';
  private readonly policy: Policy;
  private readonly budgets: Budgets;
  private readonly audit: AuditWriter;
  private readonly images: ImageLabelCache;
  private readonly decided = new Map<string, Told>();
  /** Containers acted on (or that would have been, in dry-run): one action per container until rearmed. */
  private readonly acted = new Map<string, { what: string; at: number }>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly counter: Counter<'action' | 'outcome'>;
  readonly selfId: string | undefined;

  constructor(private readonly cfg: RespondConfig, namespace: string, private readonly docker: Docker, private readonly push: (env: Envelope) => void, private readonly telemetry: Telemetry, selfId = ownContainerId(), private readonly now = Date.now) {
    this.selfId = selfId;
    this.policy = new Policy(cfg, selfId);
    this.budgets = new Budgets({ global: cfg.rate_limit, perRule: cfg.rate_limit_per_rule, perContainer: cfg.rate_limit_per_container });
    this.audit = new AuditWriter(namespace);
    this.images = new ImageLabelCache(docker, Object.keys(cfg.allow.labels));
    this.counter = new Counter({ name: 'dockward_responses_total', help: 'Response decisions by action and outcome (done, dry_run, refused, failed)', labelNames: ['action', 'outcome'], registers: [telemetry.registry] });
    if (cfg.enabled) {
      telemetry.event('respond.started', cfg.mode === 'enforce' ? 'warn' : 'info', `response actions on, mode ${cfg.mode}, ${cfg.policies.length} policies, at most ${cfg.rate_limit} per minute (${cfg.rate_limit_per_rule} per rule, ${cfg.rate_limit_per_container} per container)${selfId ? `; never acting on own container ${selfId.slice(0, 12)}` : ''}`);
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

  /**
   * Engine events: a container that runs again after an action (an operator unpaused, started or
   * reconnected it; its restart policy brought it back) may be acted on again.
   */
  engineEvent(ev: EngineEvent): void {
    if (!REARM[ev.Type]?.includes(ev.Action)) return;
    const id = ev.Type === 'network' ? ev.Actor.Attributes?.container : ev.Actor.ID;
    if (!id || !this.acted.delete(id)) return;
    const what = { unpause: 'unpaused', start: 'started', connect: 'reconnected' }[ev.Action];
    if (what) this.telemetry.event('respond.rearmed', 'info', `container ${id.slice(0, 12)} ${what}: it may be acted on again`);
  }

  /** Waits for decisions and actions under way (shutdown): their audit documents are queued before the sink stops. */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
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
    const d = this.policy.decide(doc, container, (id) => this.images.get(id));
    if (d.kind === 'none') return undefined;
    if (d.kind === 'pending') {
      // Asked once per image: a second decision sees the cached labels (null: they stay unknown).
      const p = this.images
        .load(d.imageId)
        .then((labels) => void this.settle(env, this.policy.decide(doc, container, () => labels), container, groupId))
        .catch((err) => this.telemetry.event('respond.error', 'error', `response decision failed on alert ${env.id}: ${(err as Error).message}`))
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
      return this.remember(groupId, d.action, 'pending');
    }
    return this.settle(env, d, container, groupId);
  }

  private settle(env: Envelope, d: Decision, container: ContainerFacts, groupId: string): Told | undefined {
    if (d.kind === 'none' || d.kind === 'pending') return undefined;
    const base = { alert: env, action: d.action, mode: this.cfg.mode, policy: d.policy } as const;
    const id = container.id!;
    const rule = String((env.doc.rule as Doc | undefined)?.id ?? '');
    const now = this.now();
    let input: AuditInput;
    let refusal: string | undefined;
    if (d.kind === 'refused') input = { ...base, outcome: 'refused', reason: d.reason };
    else if (this.handled(id, now)) input = { ...base, outcome: 'refused', reason: `already handled for this container (${this.acted.get(id)!.what})` };
    else if ((refusal = this.budgets.take(rule, id, now))) input = { ...base, outcome: 'refused', reason: refusal };
    else {
      this.rememberActed(id, `${this.cfg.mode === 'enforce' ? '' : 'dry run: '}${d.action} for rule ${rule}`, now);
      if (this.cfg.mode === 'dry_run') input = { ...base, outcome: 'dry_run', reason: d.reason };
      else {
        const p = this.enforce({ ...base, outcome: 'done', reason: d.reason }, id).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
        return this.remember(groupId, d.action, 'requested');
      }
    }
    this.write(input);
    return this.remember(groupId, d.action, input.outcome);
  }

  /** Acted on within `rearm_after` (0: until an engine event rearms it). */
  private handled(id: string, now: number): boolean {
    const a = this.acted.get(id);
    if (!a) return false;
    if (this.cfg.rearm_after > 0 && now - a.at >= this.cfg.rearm_after) {
      this.acted.delete(id);
      return false;
    }
    return true;
  }

  private rememberActed(id: string, what: string, now: number): void {
    if (this.acted.size >= SWEEP_AT && this.cfg.rearm_after > 0) for (const [k, v] of this.acted) if (now - v.at >= this.cfg.rearm_after) this.acted.delete(k);
    this.acted.set(id, { what, at: now });
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
    this.telemetry.event(`respond.${input.outcome}`, level, String(env.doc.message), { dockward: { response: { audit_id: env.id, action: input.action, reason: input.reason } } });
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
