import { z } from 'zod';
import { glob } from '../config/glob';
import { duration } from '../config/units';
import { KINDS, type Kind } from '../detect/rules';
import { containerSelector, Selector, type ContainerFacts } from '../notify/selector';

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const ACTIONS = ['pause', 'stop', 'kill', 'disconnect'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Evidence a policy acts on unless it says otherwise: what the engine, the kernel or the
 * container's own files and configuration show. Left out: `log` (a service's log holds what its
 * clients sent: `GET /?q=nicehash` is a line anyone can make a web server write) and `stats`
 * (anyone who can send a service requests can drive its CPU, memory and traffic off its baseline).
 */
export const STRONG_EVIDENCE: readonly Kind[] = ['process', 'file', 'config', 'event', 'network', 'posture'];

const policyRule = z
  .object({
    /** Rule ids (globs); absent: any rule. */
    rules: z.array(z.string()).optional(),
    min_severity: z.enum(SEVERITIES).optional(),
    severity: z.array(z.enum(SEVERITIES)).optional(),
    /** Any of these rule tags. */
    tags: z.array(z.string()).optional(),
    /** The kinds of document an alert may rest on for this policy to act (see STRONG_EVIDENCE). */
    evidence: z.array(z.enum(KINDS)).min(1).default([...STRONG_EVIDENCE]),
    action: z.enum(ACTIONS),
  })
  .strict()
  .refine((p) => p.rules || p.min_severity || p.severity || p.tags, { message: 'a policy needs rules, severity, min_severity or tags: an empty one would act on every alert' });

/** The allow-list: the shared container selector plus image ids, which no image builder can choose. */
const allowSelector = z
  .object({
    labels: z.record(z.string(), z.string()).default({}),
    images: z.array(z.string()).default([]),
    names: z.array(z.string()).default([]),
    /** Image ids (`sha256:<64 hex>`, as `docker image inspect --format '{{.Id}}'` prints them). */
    image_ids: z.array(z.string().regex(/^(sha256:)?[0-9a-f]{64}$/, 'a full image id: sha256: and 64 hex digits')).default([]),
  })
  .strict()
  .prefault({});

export const respondConfig = z
  .object({
    /** Off by default: nothing is decided, nothing is audited. */
    enabled: z.boolean().default(false),
    /** dry_run: decide and audit what would be done, touch nothing. enforce: do it. */
    mode: z.enum(['dry_run', 'enforce']).default('dry_run'),
    /** First matching policy wins. */
    policies: z.array(policyRule).default([]),
    /** Allow-list: containers allowed to do what rules flag (trusted tools); never acted on. Wins over `deny`. */
    allow: allowSelector,
    /** Deny-list: when not empty, only these containers may be acted on; the rest are refused. */
    deny: containerSelector,
    /** Actions (and dry-run actions) per minute, across all containers: a noisy rule cannot stop a fleet. */
    rate_limit: z.number().int().min(0).default(5),
    /** Actions per minute on behalf of one rule: one noisy rule leaves the rest of `rate_limit` to others. */
    rate_limit_per_rule: z.number().int().min(0).default(3),
    /** Actions per minute on one container (one that its restart policy keeps bringing back). */
    rate_limit_per_container: z.number().int().min(0).default(1),
    /** A container acted on is left alone until an engine event says it runs again (unpause, start, network connect) or this long has passed (0: until such an event). */
    rearm_after: duration.prefault('1h'),
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
  /** The allow-list matched by label only, and the image's labels are not known yet. */
  | { kind: 'pending'; action: Action; policy: number; imageId: string }
  | { kind: 'act'; action: Action; policy: number; reason: string };

/**
 * An image's labels by image id: the labels, null when they cannot be known (no id, the engine
 * failed), undefined when not looked up yet.
 */
export type ImageLabels = (imageId: string) => Record<string, string> | null | undefined;

type Doc = Record<string, unknown>;

/** The kind of document the alert rests on (`dockward.alert.evidence`, set by the detector). */
export function evidenceOf(alert: Doc): Kind | undefined {
  const e = ((alert.dockward as Doc | undefined)?.alert as Doc | undefined)?.evidence;
  return typeof e === 'string' && (KINDS as readonly string[]).includes(e) ? (e as Kind) : undefined;
}

/** The container's image id, from the alert's `container.image.hash.all`. */
export function imageIdOf(alert: Doc): string | undefined {
  const all = (((alert.container as Doc | undefined)?.image as Doc | undefined)?.hash as Doc | undefined)?.all;
  const id = Array.isArray(all) ? all[0] : all;
  return typeof id === 'string' && id ? id : undefined;
}

const WHY_WEAK: Partial<Record<Kind, string>> = {
  log: 'a log line is no proof (a service logs what its clients send)',
  stats: 'an anomaly score is no proof (clients can drive a service off its baseline)',
};

const bareId = (id: string) => id.replace(/^sha256:/, '');

/**
 * Which action an alert asks for and whether this container may get it, from the alert document
 * alone (no I/O), so the decision can be written into the alert before it is queued. Order:
 * policy → no container → dockward itself → evidence → allow-list → deny-list. Rate limit and
 * repeats are the responder's (they need its memory).
 */
export class Policy {
  private readonly allow: Selector;
  private readonly allowByLabel: boolean;
  private readonly allowIds: Set<string>;
  private readonly deny: Selector;
  private readonly rules: Array<Array<(s: string) => boolean> | undefined>;

  constructor(private readonly cfg: RespondConfig, private readonly selfId: string | undefined) {
    this.allow = new Selector(cfg.allow);
    this.allowByLabel = Object.keys(cfg.allow.labels).length > 0;
    this.allowIds = new Set(cfg.allow.image_ids.map(bareId));
    this.deny = new Selector(cfg.deny);
    this.rules = cfg.policies.map((p) => p.rules?.map(glob));
  }

  /**
   * `imageLabels`: when given, an allow-list label counts only if the container carries it itself
   * (`docker run --label`), not if it is the image's own (`LABEL` in a Dockerfile, chosen by
   * whoever built the image). The responder always gives it; without it, labels count as they are.
   */
  decide(alert: Doc, container: ContainerFacts, imageLabels?: ImageLabels): Decision {
    const matched = this.policiesFor(alert);
    if (!matched.length) return { kind: 'none' };
    const evidence = evidenceOf(alert);
    // The first matching policy that accepts the evidence; else the first match refuses on it.
    const i = matched.find((m) => evidence && this.cfg.policies[m].evidence.includes(evidence)) ?? matched[0];
    const action = this.cfg.policies[i].action;
    const refuse = (reason: string): Decision => ({ kind: 'refused', action, policy: i, reason });
    if (!container.id) return refuse('the alert names no container');
    if (this.selfId && (container.id === this.selfId || this.selfId.startsWith(container.id) || container.id.startsWith(this.selfId))) {
      return refuse('the container is dockward itself');
    }
    if (!evidence) return refuse('unknown-evidence: the alert does not say what kind of document it rests on');
    if (!this.cfg.policies[i].evidence.includes(evidence)) {
      return refuse(`${evidence}-evidence: ${WHY_WEAK[evidence] ?? `the alert rests on a ${evidence} document`}; the policy acts on ${this.cfg.policies[i].evidence.join(', ')}`);
    }
    const imageId = imageIdOf(alert);
    if (imageId && this.allowIds.has(bareId(imageId))) return refuse(`allow-listed (image id ${imageId})`);
    let note = '';
    const byOther = this.allow.why({ ...container, labels: {} });
    if (byOther) return refuse(`allow-listed (${byOther})`);
    if (this.allowByLabel) {
      const byLabel = this.allow.why(container);
      if (byLabel && !imageLabels) return refuse(`allow-listed (${byLabel})`);
      if (byLabel && imageLabels) {
        const image = imageId ? imageLabels(imageId) : null;
        if (image === undefined) return { kind: 'pending', action, policy: i, imageId: imageId! };
        const own = this.allow.why({ ...container, labels: ownLabels(container.labels ?? {}, image) });
        if (own) return refuse(`allow-listed (${own})`);
        note = image ? ` (${byLabel} not counted: the image sets it)` : ` (${byLabel} not counted: the image's labels are unknown)`;
      }
    }
    if (!this.deny.empty) {
      const denied = this.deny.why(container);
      if (!denied) return refuse('not on the deny-list');
      return { kind: 'act', action, policy: i, reason: `policy ${i} on the deny-list (${denied})${note}` };
    }
    return { kind: 'act', action, policy: i, reason: `policy ${i}${note}` };
  }

  /** Indexes of the policies whose rules, severity and tags match, in order. */
  private policiesFor(alert: Doc): number[] {
    const ruleId = String((alert.rule as Doc | undefined)?.id ?? '');
    const severity = String(((alert.dockward as Doc | undefined)?.alert as Doc | undefined)?.severity ?? '');
    const sev = SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);
    const tags = Array.isArray(alert.tags) ? alert.tags.map(String) : [];
    const out: number[] = [];
    this.cfg.policies.forEach((p, i) => {
      if (this.rules[i] && !this.rules[i]!.some((m) => m(ruleId))) return;
      if (p.min_severity && sev < SEVERITIES.indexOf(p.min_severity)) return;
      if (p.severity && !p.severity.includes(severity as (typeof SEVERITIES)[number])) return;
      if (p.tags && !p.tags.some((t) => tags.includes(t))) return;
      out.push(i);
    });
    return out;
  }
}

/**
 * The labels the container was given itself. The engine merges the image's labels into the
 * container's, so a label with the image's value is taken as the image's (a `--label` that repeats
 * the image's value cannot be told apart, and does not count either). Unknown image labels: none
 * count.
 */
export function ownLabels(labels: Record<string, string>, image: Record<string, string> | null): Record<string, string> {
  if (!image) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!Object.hasOwn(image, k) || image[k] !== v) out[k] = v;
  return out;
}
