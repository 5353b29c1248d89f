import type { Secret } from './secret';

/** What a route hands to a destination: one alert (the first of an incident), a summary of its repeats, or a test. */
export interface Notification {
  kind: 'alert' | 'summary' | 'test';
  route: string;
  /** The alert document (for a summary: the latest one of the incident). */
  alert: Record<string, unknown>;
  /** Findings this message stands for (a summary: the repeats since the previous message). */
  count: number;
  /** Findings of the incident so far, this message's included. */
  total: number;
  firstSeen: string;
  lastSeen: string;
  /** Messages of this route the throttle held back since the last one that went out. */
  suppressed: number;
  kibanaUrl?: string;
}

/** One try at a destination. `retry` says whether the same message may succeed later. */
export type Attempt =
  | { ok: true; status?: number; detail: string }
  | { ok: false; retry: boolean; retryAfterMs?: number; status?: number; detail: string };

/** A place messages go to. One class per file (slack.ts, webhook.ts, email.ts), built by type name. */
export interface Destination {
  readonly name: string;
  readonly type: string;
  send(n: Notification, signal: AbortSignal): Promise<Attempt>;
  /** Values to scrub from anything logged about this destination. */
  secrets(): Secret[];
  close?(): Promise<void>;
}

/** The fields every message shows, read from an alert document once for all destinations. */
export interface Facts {
  title: string;
  severity: string;
  rule: string;
  ruleId: string;
  techniques: string[];
  container: string;
  image: string;
  host: string;
  count: number;
  total: number;
  firstSeen: string;
  lastSeen: string;
  what: string;
  groupId: string;
  response?: string;
  link?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

export function facts(n: Notification): Facts {
  const a = n.alert;
  const rule = obj(a.rule);
  const dw = obj(obj(a.dockward).alert);
  const container = obj(a.container);
  const image = obj(container.image);
  const tech = obj(obj(a.threat).technique);
  const sub = obj(tech.subtechnique);
  const ids = list(tech.id);
  const names = list(tech.name);
  const subIds = list(sub.id);
  const subNames = list(sub.name);
  const techniques = [
    ...ids.map((id, i) => `${id} ${names[i] ?? ''}`.trim()),
    ...subIds.map((id, i) => `${id} ${subNames[i] ?? ''}`.trim()),
  ];
  const response = obj(dw.response);
  const severity = String(dw.severity ?? obj(a.event).severity ?? 'unknown');
  const containerName = String(container.name ?? 'the host');
  const ruleName = String(rule.name ?? rule.id ?? 'alert');
  const prefix = n.kind === 'summary' ? `Repeated ${n.count} more time${n.count === 1 ? '' : 's'}: ` : n.kind === 'test' ? 'Test: ' : '';
  return {
    title: `${prefix}[${severity.toUpperCase()}] ${ruleName} in ${containerName}`,
    severity,
    rule: ruleName,
    ruleId: String(rule.id ?? ''),
    techniques,
    container: containerName,
    image: String(image.name ?? '—'),
    host: String(obj(a.host).name ?? '—'),
    count: n.count,
    total: n.total,
    firstSeen: n.firstSeen,
    lastSeen: n.lastSeen,
    what: String(a.message ?? '').slice(0, 500),
    groupId: String(dw.group_id ?? ''),
    response: response.action ? `${String(response.action)} — ${String(response.decision ?? '')}`.trim() : undefined,
    link: n.kibanaUrl,
  };
}

export function countText(f: Facts): string {
  return f.count === f.total ? String(f.total) : `${f.total} (${f.count} since the last message)`;
}

/** Plain-text body shared by email and Slack's fallback text. */
export function plainText(f: Facts, suppressed: number): string {
  const lines = [
    f.title,
    '',
    `Severity:   ${f.severity}`,
    `Rule:       ${f.rule} (${f.ruleId})`,
    `ATT&CK:     ${f.techniques.join(', ') || '—'}`,
    `Container:  ${f.container} (${f.image})`,
    `Host:       ${f.host}`,
    `Count:      ${countText(f)}`,
    `First seen: ${f.firstSeen}`,
    `Last seen:  ${f.lastSeen}`,
  ];
  if (f.response) lines.push(`Response:   ${f.response}`);
  if (suppressed) lines.push(`Throttled:  ${suppressed} earlier message(s) of this route were held back`);
  if (f.what) lines.push('', f.what);
  if (f.link) lines.push('', `Kibana: ${f.link}`);
  return lines.join('\n');
}

/**
 * Discover, filtered on the incident's group id. Rison in the hash is what Kibana parses; only the
 * characters rison itself reserves are left unescaped.
 */
export function kibanaLink(base: string | undefined, groupId: string, dataView?: string): string | undefined {
  if (!base || !groupId) return undefined;
  const q = `dockward.alert.group_id:"${groupId}"`.replace(/'/g, "!'");
  const view = dataView ? `,dataSource:(dataViewId:'${dataView}',type:dataView)` : '';
  const a = `(query:(language:kuery,query:'${q}')${view})`;
  const g = '(time:(from:now-7d,to:now))';
  return `${base.replace(/\/+$/, '')}/app/discover#/?_g=${encodeURIComponent(g)}&_a=${encodeURIComponent(a)}`;
}
