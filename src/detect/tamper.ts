/**
 * Tampering with dockward's own inputs is itself a signal (ATT&CK T1562, Impair Defenses): a
 * container that plants a FIFO where dockward reads, floods a log line without end, bombs its
 * labels or its file tree, or pads a command line past the match window is trying to blind the
 * watcher. Collectors report it (`CollectorContext.tamper`); each kind is filed under one built-in
 * rule here, so the alert groups per container and kind like any rule's, and the report itself is
 * kept as an engine-event document (`event.action: dockward-tamper`) that the alert points at.
 */
import type { TamperKind, TamperReport } from '../collect/collector';
import { baseFields } from '../enrich/ecs';
import { deterministicId, streamName, type Envelope } from '../ship/envelope';
import type { Rule } from './rules';

interface TamperSpec {
  name: string;
  description: string;
  severity: Rule['severity'];
  technique: string;
}

const SPECS: Record<TamperKind, TamperSpec> = {
  'special-file': {
    name: 'Container planted a special file where dockward reads',
    description: 'A file dockward reads from the container (its /etc/passwd) is a FIFO, device, oversized file or a symlink leaving the container: an attempt to freeze dockward or make it read host files.',
    severity: 'high',
    technique: 'T1562.001',
  },
  'log-flood': {
    name: 'Container flooded its log past the line limit',
    description: 'The container wrote a log line longer than logs.max_line_bytes (or a TTY stream with no newline): the rest up to the next newline was dropped and counted, so detection saw only the head.',
    severity: 'medium',
    technique: 'T1562.001',
  },
  'label-bomb': {
    name: 'Container carries oversized or too many labels',
    description: 'The container has more labels, or longer label keys or values, than dockward copies into documents: the rest were left out or cut (container.labels_truncated counts them).',
    severity: 'medium',
    technique: 'T1562.001',
  },
  'drift-bomb': {
    name: 'Container changed more files than one drift scan reports',
    description: 'One drift scan found more changed paths than drift.max_changes_per_scan: the rest were summarised in one document, so individual file events are missing for that scan.',
    severity: 'medium',
    technique: 'T1562.001',
  },
  'kernel-overrun': {
    name: 'Kernel process events overran repeatedly',
    description: 'The kernel connector dropped events several times in a short period (ENOBUFS): a process storm, possibly made to hide short-lived processes between resyncs.',
    severity: 'medium',
    technique: 'T1562.001',
  },
  'cmdline-padding': {
    name: 'Command line padded past the match window',
    description: 'A process command line or field was longer than the rules match: only its head and tail were matched. Padding is a known way to push a payload out of a detector\'s view.',
    severity: 'medium',
    technique: 'T1562.001',
  },
  'detection-budget': {
    name: 'Container exhausted its detection budget',
    description: "The container's documents cost more rule evaluation than detect.budget_per_container allows (an exec or log flood made to be expensive to match): the rest were shipped without detection until its budget refilled.",
    severity: 'high',
    technique: 'T1562.001',
  },
  'exec-flood': {
    name: 'Container started processes past its document budget',
    description: 'The container started more processes per second than collectors.kernel.documents_per_second allows (an exec flood or a fork bomb): identical starts were folded into one document with a count (dockward.process.folded.count), their ends counted, and distinct commands past max_folded_commands dropped and counted.',
    severity: 'medium',
    technique: 'T1562.001',
  },
  'kernel-reader-crash': {
    name: 'Kernel process reader died and was restarted',
    description: 'The process reading kernel process and audit events died (the netlink addon aborts on a socket error under an event storm, or it was killed) and was restarted: process starts between its death and the restart were seen by top polling only.',
    severity: 'high',
    technique: 'T1562.001',
  },
};

export const TAMPER_RULE_PREFIX = 'dockward-tamper-';

function rule(kind: TamperKind, spec: TamperSpec): Rule {
  return {
    id: `${TAMPER_RULE_PREFIX}${kind}`,
    name: spec.name,
    description: spec.description,
    severity: spec.severity,
    class: 'alert',
    risk_score: { low: 21, medium: 47, high: 73, critical: 99 }[spec.severity],
    tactics: ['TA0005'],
    techniques: [spec.technique],
    enabled: true,
    tags: ['tamper'],
    references: ['https://attack.mitre.org/techniques/T1562/001/'],
    version: 1,
    examples: { match: [], no_match: [] } as unknown as Rule['examples'],
    // A log line past the limit can be a client's input that the service logged (a huge URL or
    // body): log evidence, which the responder does not act on by default. The rest is the container's own.
    kinds: kind === 'log-flood' ? ['log'] : ['event'],
    file: '(built in: tamper reports)',
    // Not a matcher: raised by the collectors' reports only.
    matches: () => false,
  };
}

export const TAMPER_RULES: Readonly<Record<TamperKind, Rule>> = Object.fromEntries(
  (Object.entries(SPECS) as [TamperKind, TamperSpec][]).map(([k, s]) => [k, rule(k, s)]),
) as Record<TamperKind, Rule>;

/** Detail text kept in documents: the report's own bound, whatever the caller passed. */
const MAX_DETAIL = 512;

/** The document of one report, in the engine-event stream; `container` is what the metadata cache knows. */
export function tamperEnvelope(report: TamperReport, namespace: string, container: Record<string, unknown> | undefined, now = Date.now()): Envelope {
  const detail = report.detail.length > MAX_DETAIL ? `${report.detail.slice(0, MAX_DETAIL)}…` : report.detail;
  const dataset = 'dockward.event';
  return {
    index: streamName('logs', dataset, namespace),
    id: deterministicId('tamper', report.container, report.kind, now),
    doc: {
      '@timestamp': new Date(now).toISOString(),
      message: `${SPECS[report.kind].name}: ${detail}`,
      event: { kind: 'event', category: ['host'], type: ['info'], action: 'dockward-tamper', reason: report.kind, dataset, module: 'dockward', created: new Date(now).toISOString() },
      container: container ?? (report.container === 'host' ? undefined : { id: report.container }),
      dockward: { tamper: { kind: report.kind, detail } },
      ...baseFields('logs', dataset, namespace),
    },
  };
}

/**
 * Turns reports into documents and alerts. A flood reports on every line, so within `window`
 * a (container, kind) pair is one document and one alert group (the group counts the rest);
 * what was suppressed is counted in `dockward_tamper_reports_total`.
 */
export class TamperSink {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly namespace: string,
    private readonly window: number,
    private readonly containerOf: (id: string) => Promise<Record<string, unknown> | undefined>,
    private readonly push: (env: Envelope) => void,
    private readonly raise: (rule: Rule, env: Envelope) => void,
    private readonly counted: (kind: TamperKind) => void,
  ) {}

  report(r: TamperReport): void {
    this.counted(r.kind);
    const key = `${r.kind}\u0000${r.container}`;
    const now = Date.now();
    const prev = this.last.get(key);
    if (prev !== undefined && now - prev < this.window) return;
    this.last.set(key, now);
    if (this.last.size > 10_000) for (const [k, t] of this.last) if (now - t >= this.window) this.last.delete(k);
    void this.containerOf(r.container)
      .catch(() => undefined)
      .then((container) => {
        const env = tamperEnvelope(r, this.namespace, container, now);
        this.push(env);
        this.raise(TAMPER_RULES[r.kind], env);
      });
  }
}
