import type { Client } from '@elastic/elasticsearch';

/** An alert document as the demo prints it. */
export interface AlertDoc {
  '@timestamp': string;
  message?: string;
  rule?: { id?: string; name?: string };
  threat?: { technique?: { id?: string[]; name?: string[]; subtechnique?: { id?: string[]; name?: string[] } } };
  container?: { id?: string; name?: string };
  process?: { command_line?: string };
  event?: { created?: string };
  dockward?: { alert?: { severity?: string; count?: number; summary?: boolean; source?: { index?: string; id?: string } } };
}

interface AuditDoc {
  '@timestamp': string;
  message?: string;
  dockward?: { response?: { action?: string; mode?: string; outcome?: string } };
}

const clock = (iso: string) => iso.slice(11, 19);
const MAX_SEEN = 10_000;

/** The most specific technique an alert names, as "T1059.004 Unix Shell". */
export function techniqueOf(a: AlertDoc): string {
  const t = a.threat?.technique;
  const id = t?.subtechnique?.id?.[0] ?? t?.id?.[0];
  const name = t?.subtechnique?.name?.[0] ?? t?.name?.[0];
  return id ? `${id}${name && name !== id ? ` ${name}` : ''}` : '(no technique)';
}

/**
 * Prints, as they arrive in Elasticsearch, each new alert (first of its group; summaries are
 * counted in the end) and each response decision. Polls once a second: the demo shows what an
 * analyst would find, so it reads the cluster, not dockward's memory.
 */
export class AlertWatch {
  private readonly seen = new Set<string>();
  readonly alerts: AlertDoc[] = [];

  constructor(private readonly es: Client, private readonly ns: string, private readonly prefix: string, private readonly out: (line: string) => void) {}

  async poll(): Promise<void> {
    const [alerts, audit] = await Promise.all([this.fetch<AlertDoc>(`logs-dockward.alert-${this.ns}`), this.fetch<AuditDoc>(`logs-dockward.audit-${this.ns}`)]);
    for (const [, a] of alerts) {
      // The engine may run other containers than the demo's: the story is about these.
      if (a.dockward?.alert?.summary || !(a.container?.name ?? '').startsWith(this.prefix)) continue;
      this.alerts.push(a);
      const what = (a.process?.command_line ?? a.message ?? '').replace(/\s+/g, ' ').slice(0, 90);
      this.out(`  ALERT ${clock(a['@timestamp'])}  ${(a.container?.name ?? 'host').padEnd(18)} ${(a.dockward?.alert?.severity ?? '').padEnd(8)} ${a.rule?.id ?? '?'}  [${techniqueOf(a)}]`);
      this.out(`        ${what}`);
    }
    for (const [, r] of audit) {
      const d = r.dockward?.response;
      this.out(`  RESPONSE ${clock(r['@timestamp'])}  ${d?.mode === 'dry_run' ? `would ${d?.action}` : d?.action} (${d?.outcome}): ${(r.message ?? '').slice(0, 120)}`);
    }
  }

  private async fetch<T>(index: string): Promise<Array<[string, T]>> {
    const r = await this.es.search<T>({ index, size: 200, sort: [{ '@timestamp': 'asc' }], ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
    const out: Array<[string, T]> = [];
    for (const h of r?.hits.hits ?? []) {
      const key = `${index}/${h._id}`;
      if (this.seen.has(key) || !h._source) continue;
      if (this.seen.size < MAX_SEEN) this.seen.add(key);
      out.push([h._id!, h._source]);
    }
    return out;
  }
}
