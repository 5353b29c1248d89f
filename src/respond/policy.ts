import { z } from 'zod';
import { glob } from '../config/glob';
import { duration } from '../config/units';
import { containerSelector, Selector, type ContainerFacts } from '../notify/selector';

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const ACTIONS = ['pause', 'stop', 'kill', 'disconnect'] as const;
export type Action = (typeof ACTIONS)[number];

const policyRule = z
  .object({
    /** Rule ids (globs); absent: any rule. */
    rules: z.array(z.string()).optional(),
    min_severity: z.enum(SEVERITIES).optional(),
    severity: z.array(z.enum(SEVERITIES)).optional(),
    /** Any of these rule tags. */
    tags: z.array(z.string()).optional(),
    action: z.enum(ACTIONS),
  })
  .strict()
  .refine((p) => p.rules || p.min_severity || p.severity || p.tags, { message: 'a policy needs rules, severity, min_severity or tags: an empty one would act on every alert' });

export const respondConfig = z
  .object({
    /** Off by default: nothing is decided, nothing is audited. */
    enabled: z.boolean().default(false),
    /** dry_run: decide and audit what would be done, touch nothing. enforce: do it. */
    mode: z.enum(['dry_run', 'enforce']).default('dry_run'),
    /** First matching policy wins. */
    policies: z.array(policyRule).default([]),
    /** Allow-list: containers allowed to do what rules flag (trusted tools); never acted on. Wins over `deny`. */
    allow: containerSelector,
    /** Deny-list: when not empty, only these containers may be acted on; the rest are refused. */
    deny: containerSelector,
    /** Actions (and dry-run actions) per minute, across all containers: a noisy rule cannot stop a fleet. */
    rate_limit: z.number().int().min(0).default(5),
    /** `stop`: seconds the engine waits after SIGTERM before SIGKILL. */
    stop_timeout: duration.prefault('10s'),
    /** `kill`: the signal sent. */
    kill_signal: z.string().regex(/^(SIG)?[A-Z0-9]+$/).default('SIGKILL'),
  })
  .strict()
  .prefault({});
export type RespondConfig = z.output<typeof respondConfig>;

export type Decision =
  | { kind: 'none' }
  | { kind: 'refused'; action: Action; policy: number; reason: string }
  | { kind: 'act'; action: Action; policy: number; reason: string };

type Doc = Record<string, unknown>;

/**
 * Which action an alert asks for and whether this container may get it, from the alert document
 * alone (no I/O), so the decision can be written into the alert before it is queued. Order:
 * policy → no container → dockward itself → allow-list → deny-list. Rate limit and repeats are
 * the responder's (they need its memory).
 */
export class Policy {
  private readonly allow: Selector;
  private readonly deny: Selector;
  private readonly rules: Array<Array<(s: string) => boolean> | undefined>;

  constructor(private readonly cfg: RespondConfig, private readonly selfId: string | undefined) {
    this.allow = new Selector(cfg.allow);
    this.deny = new Selector(cfg.deny);
    this.rules = cfg.policies.map((p) => p.rules?.map(glob));
  }

  decide(alert: Doc, container: ContainerFacts): Decision {
    const i = this.policyFor(alert);
    if (i < 0) return { kind: 'none' };
    const action = this.cfg.policies[i].action;
    const refuse = (reason: string): Decision => ({ kind: 'refused', action, policy: i, reason });
    if (!container.id) return refuse('the alert names no container');
    if (this.selfId && (container.id === this.selfId || this.selfId.startsWith(container.id) || container.id.startsWith(this.selfId))) {
      return refuse('the container is dockward itself');
    }
    const allowed = this.allow.why(container);
    if (allowed) return refuse(`allow-listed (${allowed})`);
    if (!this.deny.empty) {
      const denied = this.deny.why(container);
      if (!denied) return refuse('not on the deny-list');
      return { kind: 'act', action, policy: i, reason: `policy ${i} on the deny-list (${denied})` };
    }
    return { kind: 'act', action, policy: i, reason: `policy ${i}` };
  }

  private policyFor(alert: Doc): number {
    const ruleId = String((alert.rule as Doc | undefined)?.id ?? '');
    const severity = String(((alert.dockward as Doc | undefined)?.alert as Doc | undefined)?.severity ?? '');
    const sev = SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);
    const tags = Array.isArray(alert.tags) ? alert.tags.map(String) : [];
    return this.cfg.policies.findIndex((p, i) => {
      if (this.rules[i] && !this.rules[i]!.some((m) => m(ruleId))) return false;
      if (p.min_severity && sev < SEVERITIES.indexOf(p.min_severity)) return false;
      if (p.severity && !p.severity.includes(severity as (typeof SEVERITIES)[number])) return false;
      if (p.tags && !p.tags.some((t) => tags.includes(t))) return false;
      return true;
    });
  }
}
