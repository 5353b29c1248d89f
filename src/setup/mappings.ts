import { EcsFlat } from '@elastic/ecs';
import { SIGNALS as ANOMALY_SIGNALS } from '../anomaly/signals';
import { SHIPPER_FIELDS } from '../telemetry/shipper-stats';

/**
 * Explicit mappings for every field dockward writes. ECS fields take their type, `ignore_above`
 * and multi-fields from `@elastic/ecs` (so `message` is match_only_text and command lines are
 * wildcard, as ECS says); labels are `flattened` so arbitrary container labels cannot add fields.
 * The root is `dynamic: false`: a field nobody declared is kept in _source, never mapped.
 */

/**
 * Every `flattened` field gets this `ignore_above`: a longer leaf value is kept in _source but not
 * indexed. Without it a value over 32766 bytes (a container label, an engine event attribute, a
 * JSON log line's field) makes Elasticsearch refuse the whole document. It counts characters, so
 * a value indexed is at most 4 KiB of UTF-8 and leaves room for its key in the 32766-byte term
 * (key + value); keys themselves must be bounded where they are written (src/enrich/labels.ts).
 */
export const FLATTENED_IGNORE_ABOVE = 1024;
const FLATTENED = { type: 'flattened', ignore_above: FLATTENED_IGNORE_ABOVE };
export const ECS_FIELDS = [
  '@timestamp', 'message', 'tags', 'labels', 'ecs.version',
  'data_stream.type', 'data_stream.dataset', 'data_stream.namespace',
  'event.kind', 'event.category', 'event.type', 'event.action', 'event.dataset', 'event.module',
  'event.created', 'event.id', 'event.sequence', 'event.provider', 'event.outcome', 'event.reason', 'event.severity', 'event.risk_score',
  'log.level', 'log.logger',
  'host.name', 'host.hostname', 'host.id', 'host.architecture', 'host.os.type', 'host.os.name', 'host.os.kernel', 'host.os.platform',
  'observer.hostname', 'observer.name', 'observer.product', 'observer.vendor', 'observer.version', 'observer.type',
  'agent.type', 'agent.name', 'agent.version', 'agent.id', 'agent.ephemeral_id',
  'container.id', 'container.name', 'container.image.name', 'container.image.tag', 'container.image.hash.all',
  'container.labels', 'container.runtime', 'container.cpu.usage', 'container.memory.usage',
  'container.network.ingress.bytes', 'container.network.egress.bytes', 'container.disk.read.bytes', 'container.disk.write.bytes',
  'process.pid', 'process.name', 'process.executable', 'process.args', 'process.command_line',
  'process.working_directory', 'process.start', 'process.end', 'process.exit_code',
  'process.parent.pid', 'process.parent.name', 'process.parent.command_line', 'process.user.name', 'process.user.id',
  'process.vpid', 'process.parent.vpid', 'process.parent.executable', 'process.entry_leader.pid', 'process.entry_leader.vpid', 'process.entry_leader.name', 'process.entry_leader.executable', 'process.entry_leader.start', 'event.duration', 'process.real_user.id', 'process.group.id',
  // The kernel collector's (docs/kernel-events.md): the rest of its process.* fields.
  'process.parent.args', 'process.entry_leader.args', 'process.real_user.name',
  // argv[0] as given, apart from process.name (src/collect/process-identity.ts).
  'process.title', 'process.parent.title',
  'user.name', 'user.id',
  'file.path', 'file.name', 'file.directory',
  'error.type', 'error.message', 'error.code',
  'rule.id', 'rule.name', 'rule.category', 'rule.description', 'rule.ruleset', 'rule.reference', 'rule.version',
  'threat.framework', 'threat.tactic.id', 'threat.tactic.name', 'threat.tactic.reference', 'threat.technique.id', 'threat.technique.name',
  'threat.technique.reference', 'threat.technique.subtechnique.id', 'threat.technique.subtechnique.name', 'threat.technique.subtechnique.reference',
  'related.ip', 'related.user', 'related.hosts',
  // Written by the ingest pipelines (pipelines/): arrival time and parsed access-log lines.
  'event.ingested', 'http.request.method', 'http.request.referrer', 'http.response.status_code', 'http.response.body.bytes', 'http.version',
  'url.original', 'url.path', 'url.query', 'source.address', 'user_agent.original',
  'source.ip', 'source.port', 'destination.ip', 'destination.port', 'network.transport', 'network.type', 'network.direction', 'network.iana_number',
] as const;

/** The fields of a finding, alert or signal (the detector writes the same shape for both). */
const FINDING_FIELDS: Record<string, Record<string, unknown>> = {
  group_id: { type: 'keyword' },
  count: { type: 'long' },
  first_seen: { type: 'date' },
  last_seen: { type: 'date' },
  summary: { type: 'boolean' },
  severity: { type: 'keyword' },
  // The kind of document the finding rests on (log, process, file, …): the responder's evidence.
  evidence: { type: 'keyword' },
  'source.index': { type: 'keyword' },
  'source.id': { type: 'keyword' },
  matched: { ...FLATTENED },
};

/** dockward's own fields, outside ECS. */
export const CUSTOM_FIELDS: Record<string, Record<string, unknown>> = {
  stream: { type: 'keyword' },
  'log.flags': { type: 'keyword' },
  'docker.event.type': { type: 'keyword' },
  'docker.event.action': { type: 'keyword', ignore_above: 1024 },
  'docker.event.scope': { type: 'keyword' },
  'docker.event.time_nano': { type: 'long' },
  'docker.event.actor.id': { type: 'keyword' },
  'docker.event.actor.attributes': { ...FLATTENED },
  // Labels left out or cut of the container's own (src/enrich/labels.ts).
  'container.labels_truncated': { type: 'long' },
  ...Object.fromEntries(
    ['uptime_s', 'interval_s', 'followed_containers', 'queue_documents', 'queue_bytes', 'acked', 'duplicate', 'dead_lettered', 'dropped'].map((f) => [`dockward.heartbeat.${f}`, { type: 'long' }]),
  ),
  // The heartbeat's per-beat shipper figures (src/telemetry/shipper-stats.ts).
  ...SHIPPER_FIELDS,
  'docker.cpu.pct': { type: 'float' },
  'docker.cpu.online_cpus': { type: 'integer' },
  'docker.memory.usage.bytes': { type: 'long' },
  'docker.memory.limit.bytes': { type: 'long' },
  'docker.memory.pct': { type: 'float' },
  'docker.network.rx.bytes': { type: 'long' },
  'docker.network.rx.rate': { type: 'float' },
  'docker.network.tx.bytes': { type: 'long' },
  'docker.network.tx.rate': { type: 'float' },
  'docker.pids': { type: 'long' },
  ...Object.fromEntries(
    ['privileged', 'readonly_rootfs', 'no_new_privileges'].map((f) => [`docker.config.${f}`, { type: 'boolean' }]),
  ),
  ...Object.fromEntries(
    ['user', 'cap_add', 'cap_drop', 'network_mode', 'pid_mode', 'ipc_mode', 'uts_mode', 'userns_mode', 'cgroupns_mode', 'seccomp', 'apparmor',
      'security_opt', 'devices', 'published_ports', 'restart_policy', 'image', 'image_id', 'healthcheck', 'hash',
      'mounts.type', 'mounts.source', 'mounts.destination', 'mounts.propagation'].map((f) => [`docker.config.${f}`, { type: 'keyword', ignore_above: 1024 }]),
  ),
  'docker.config.mounts.rw': { type: 'boolean' },
  ...Object.fromEntries(['memory_limit', 'cpu_shares', 'cpu_quota', 'pids_limit'].map((f) => [`docker.config.${f}`, { type: 'long' }])),
  ...Object.fromEntries(
    ['evaluation', 'severity', 'resource.type', 'resource.id', 'resource.name', 'scan.id', 'scan.trigger'].map((f) => [`dockward.posture.${f}`, { type: 'keyword', ignore_above: 1024 }]),
  ),
  'dockward.posture.level': { type: 'byte' },
  'dockward.posture.automated': { type: 'boolean' },
  'dockward.posture.changed': { type: 'boolean' },
  'dockward.posture.evidence': { type: 'keyword', ignore_above: 4096 },
  'dockward.posture.remediation': { type: 'keyword', index: false, doc_values: false },
  ...Object.fromEntries(['passed', 'failed', 'not_applicable', 'total'].map((f) => [`dockward.posture.score.${f}`, { type: 'long' }])),
  'dockward.posture.score.percent': { type: 'float' },
  'dockward.exec.id': { type: 'keyword' },
  'dockward.exec.tty': { type: 'boolean' },
  'dockward.exec.privileged': { type: 'boolean' },
  'dockward.exec.user': { type: 'keyword' },
  'dockward.process.first_snapshot': { type: 'boolean' },
  'dockward.process.start_exact': { type: 'boolean' },
  'dockward.process.dropped_binary': { type: 'boolean' },
  'dockward.process.exit_race': { type: 'boolean' },
  'dockward.process.source': { type: 'keyword' },
  'dockward.process.noexec': { type: 'boolean' },
  'dockward.process.fork_only': { type: 'boolean' },
  // argv[0] names another program than the one the kernel ran (src/collect/process-identity.ts).
  'dockward.process.argv0_mismatch': { type: 'boolean' },
  'dockward.process.folded.count': { type: 'long' },
  'dockward.process.folded.last': { type: 'date' },
  'dockward.process.resync': { type: 'boolean' },
  // ECS 8.x field this @elastic/ecs release does not list yet (kernel documents: init or exec).
  'process.entry_meta.type': { type: 'keyword' },
  'dockward.process.image': { type: 'integer' },
  'dockward.process.exit_signal': { type: 'integer' },
  'dockward.file.executed': { type: 'boolean' },
  'dockward.drift.baseline': { type: 'boolean' },
  // A drift scan's summary of the paths past collectors.drift.max_changes_per_scan.
  'dockward.drift.summary': { type: 'boolean' },
  ...Object.fromEntries(['count', 'previous', 'total', 'skipped', 'kinds.creation', 'kinds.change', 'kinds.deletion'].map((f) => [`dockward.drift.${f}`, { type: 'long' }])),
  'dockward.drift.sample': { type: 'keyword', ignore_above: 1024 },
  // A container's interference with dockward's inputs (src/detect/tamper.ts).
  'dockward.tamper.kind': { type: 'keyword' },
  'dockward.tamper.detail': { type: 'keyword', ignore_above: 1024 },
  ...Object.fromEntries(['netns', 'side', 'state', 'owners.name'].map((f) => [`dockward.network.${f}`, { type: 'keyword', ignore_above: 1024 }])),
  ...Object.fromEntries(['inode', 'count', 'owners.pid', 'burst.ports', 'burst.sample'].map((f) => [`dockward.network.${f}`, { type: 'long' }])),
  ...Object.fromEntries(['baseline', 'first_listener', 'short_lived', 'summary'].map((f) => [`dockward.network.${f}`, { type: 'boolean' }])),
  // Anomaly scores (src/anomaly): one document per container and stats interval.
  'dockward.anomaly.score': { type: 'float' },
  'dockward.anomaly.threshold': { type: 'float' },
  'dockward.anomaly.warm': { type: 'boolean' },
  ...Object.fromEntries(['top', 'baseline_from'].map((f) => [`dockward.anomaly.${f}`, { type: 'keyword' }])),
  'dockward.anomaly.explanation': { type: 'keyword', ignore_above: 1024 },
  ...Object.fromEntries(['streak', 'samples'].map((f) => [`dockward.anomaly.${f}`, { type: 'long' }])),
  ...Object.fromEntries(
    ANOMALY_SIGNALS.flatMap((sig) => ['score', 'value', 'baseline', 'cad'].map((f) => [`dockward.anomaly.signals.${sig}.${f}`, { type: 'float' }])),
  ),
  ...Object.fromEntries(ANOMALY_SIGNALS.flatMap((sig) => ['below', 'extreme'].map((f) => [`dockward.anomaly.signals.${sig}.${f}`, { type: 'boolean' }]))),
  // A JSON log line's own fields, parsed by the container-logs pipeline; any keys, one mapping.
  'dockward.json': { ...FLATTENED },
  // Alerts and signals carry one shape, under dockward.alert or dockward.signal (src/detect/detector.ts).
  ...Object.fromEntries(['alert', 'signal'].flatMap((c) => Object.entries(FINDING_FIELDS).map(([f, m]) => [`dockward.${c}.${f}`, m]))),
  // A risk threshold alert: the score and the signals and alerts that led there (src/detect/risk.ts).
  ...Object.fromEntries(['score', 'threshold', 'rearm', 'anomaly', 'contributors.points'].map((f) => [`dockward.risk.${f}`, { type: 'float' }])),
  ...Object.fromEntries(['findings', 'contributors_total', 'contributors.count'].map((f) => [`dockward.risk.${f}`, { type: 'long' }])),
  ...Object.fromEntries(['contributors.rule_id', 'contributors.class', 'contributors.severity', 'contributors.techniques'].map((f) => [`dockward.risk.${f}`, { type: 'keyword' }])),
  'dockward.risk.contributors.rule_name': { type: 'keyword', ignore_above: 1024 },
  ...Object.fromEntries(['first_seen', 'last_seen', 'contributors.first_seen', 'contributors.last_seen'].map((f) => [`dockward.risk.${f}`, { type: 'date' }])),
  // The responder's decision, written into the alert; the audit document holds the rest.
  ...Object.fromEntries(['audit_id', 'audit_index', 'action', 'mode', 'outcome'].map((f) => [`dockward.alert.response.${f}`, { type: 'keyword' }])),
  ...Object.fromEntries(['action', 'mode', 'outcome', 'networks', 'alert.index', 'alert.id', 'alert.group_id'].map((f) => [`dockward.response.${f}`, { type: 'keyword' }])),
  'dockward.response.reason': { type: 'keyword', ignore_above: 1024 },
  'dockward.response.detail': { type: 'keyword', ignore_above: 1024 },
  'dockward.response.policy': { type: 'integer' },
  'dockward.response.duration_ms': { type: 'long' },
  'dockward.deadletter.index': { type: 'keyword' },
  'dockward.deadletter.id': { type: 'keyword' },
  'dockward.deadletter.status': { type: 'integer' },
  // The refused document, kept whole for replay; stored, never indexed.
  'dockward.deadletter.document': { type: 'keyword', index: false, doc_values: false },
};

interface EcsFieldDef {
  type: string;
  ignore_above?: number;
  scaling_factor?: number;
  object_type?: string;
  multi_fields?: Array<{ name: string; type: string }>;
}

export function ecsFieldMapping(name: string): Record<string, unknown> {
  const def = (EcsFlat as unknown as Record<string, EcsFieldDef | undefined>)[name];
  if (!def) throw new Error(`${name} is not an ECS field in @elastic/ecs`);
  let m: Record<string, unknown>;
  if ((def.type === 'object' && def.object_type) || name.endsWith('.labels')) m = { ...FLATTENED };
  else {
    m = { type: def.type };
    if (def.type === 'keyword') m.ignore_above = def.ignore_above ?? 1024;
    if (def.type === 'scaled_float') m.scaling_factor = def.scaling_factor ?? 1000;
  }
  if (def.multi_fields?.length) {
    m.fields = Object.fromEntries(def.multi_fields.map((f) => [f.name, f.type === 'text' ? { type: 'text', norms: false } : { type: f.type }]));
  }
  return m;
}

/** Nested `properties` from flat dotted names. */
export function buildProperties(fields: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, mapping] of Object.entries(fields).sort(([a], [b]) => a.localeCompare(b))) {
    const parts = name.split('.');
    let cur = root;
    for (const p of parts.slice(0, -1)) {
      const node = (cur[p] ??= { properties: {} }) as { properties: Record<string, unknown> };
      cur = node.properties;
    }
    cur[parts[parts.length - 1]] = mapping;
  }
  return root;
}

export function dockwardMappings(): Record<string, unknown> {
  const fields: Record<string, Record<string, unknown>> = {};
  for (const f of ECS_FIELDS) fields[f] = ecsFieldMapping(f);
  Object.assign(fields, CUSTOM_FIELDS);
  return { dynamic: false, date_detection: false, properties: buildProperties(fields) };
}

/** Types that only some distributions have, and what stands in for each where absent. */
export const TYPE_FALLBACKS: Record<string, (m: Record<string, unknown>) => Record<string, unknown>> = {
  match_only_text: ({ type: _t, ...rest }) => ({ ...rest, type: 'text', norms: false }),
  wildcard: ({ type: _t, ...rest }) => ({ ...rest, type: 'keyword', ignore_above: 8192 }),
  constant_keyword: ({ type: _t, value: _v, ...rest }) => ({ ...rest, type: 'keyword' }),
  version: ({ type: _t, ...rest }) => ({ ...rest, type: 'keyword' }),
  unsigned_long: ({ type: _t, ...rest }) => ({ ...rest, type: 'long' }),
  scaled_float: ({ type: _t, scaling_factor: _s, ...rest }) => ({ ...rest, type: 'float' }),
};

/** Replaces every mapping of `type` in a mapping tree by its fallback. */
export function replaceType(node: unknown, type: string): unknown {
  if (Array.isArray(node)) return node.map((n) => replaceType(n, type));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = replaceType(v, type);
  return obj.type === type && TYPE_FALLBACKS[type] ? TYPE_FALLBACKS[type](out) : out;
}
