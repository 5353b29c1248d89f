import { EcsVersion } from '@elastic/ecs';
import { VERSION } from '../version';
import type { TamperReport } from '../collect/collector';
import { hostFields, hostIdentity } from './host';
import { boundLabels, truncationDetail, type BoundedLabels } from './labels';
import type { ContainerMeta } from './metadata';

/** Fields every dockward document carries, built once per stream. */
export function baseFields(type: 'logs' | 'metrics', dataset: string, namespace: string): Record<string, unknown> {
  const h = hostIdentity();
  return {
    data_stream: { type, dataset, namespace },
    ecs: { version: EcsVersion },
    host: hostFields(h),
    observer: { hostname: h.name, name: h.name, product: 'dockward', vendor: 'dockward', version: VERSION, type: 'shipper' },
    agent: { type: 'dockward', name: h.name, version: VERSION, ...(h.agentId ? { id: h.agentId } : {}), ephemeral_id: h.ephemeralId },
  };
}

/**
 * ECS `container.*` for one container. Labels are bounded (src/enrich/labels.ts); when some were
 * left out or cut, `container.labels_truncated` is how many, on every document of the container.
 */
export function containerFields(meta: ContainerMeta): Record<string, unknown> {
  const tag = imageTag(meta.image);
  const { labels, truncated } = labelsOf(meta);
  return {
    id: meta.id,
    name: meta.name,
    image: { name: meta.image, ...(tag ? { tag: [tag] } : {}), hash: { all: [meta.imageId] } },
    labels,
    ...(truncated ? { labels_truncated: truncated.dropped + truncated.cut } : {}),
    runtime: 'docker',
  };
}

// Per labels object: a meta from MetadataCache is one object per container, so labels are bounded
// once per container, not once per document; metas built elsewhere (posture scans) are bounded too.
const bounded = new WeakMap<object, BoundedLabels>();

function labelsOf(meta: ContainerMeta): BoundedLabels {
  const raw = meta.labels ?? {};
  let b = bounded.get(raw);
  if (!b) {
    b = boundLabels(raw);
    // MetadataCache bounded them already and kept what it left out.
    if (!b.truncated && meta.labelsTruncated) b = { labels: b.labels, truncated: meta.labelsTruncated };
    bounded.set(raw, b);
  }
  return b;
}

const reported = new WeakSet<object>();

/**
 * The label-bomb tamper report for this container, once per container (per metadata object: a
 * rename or update refreshes it), or undefined. A collector passes it to `ctx.tamper`.
 */
export function labelTamper(meta: ContainerMeta): TamperReport | undefined {
  const { truncated } = labelsOf(meta);
  if (!truncated || reported.has(meta)) return undefined;
  reported.add(meta);
  return { container: meta.id, kind: 'label-bomb', detail: truncationDetail(truncated) };
}

function imageTag(ref: string): string | undefined {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
}

const LEVELS: Record<string, string> = {
  trace: 'trace', debug: 'debug', dbug: 'debug', info: 'info', information: 'info', notice: 'notice',
  warn: 'warn', warning: 'warn', error: 'error', err: 'error', eror: 'error', crit: 'critical',
  critical: 'critical', fatal: 'fatal', panic: 'fatal', alert: 'alert', emerg: 'emergency', emergency: 'emergency',
};
// level=x, "level":"x", [X], <X>, X: or X at the start; upper-case words anywhere in the first 120 chars.
const LEVEL_KEYED = /(?:^|[\s{,])"?(?:level|severity|lvl|loglevel)"?\s*[=:]\s*"?([A-Za-z]+)/i;
const LEVEL_TOKEN = /(?:^|[\s[<(|])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRIT|CRITICAL|FATAL|PANIC|ALERT|EMERG)(?:[\]>)|:\s]|$)/;

/** `log.level` when the line makes it evident, otherwise undefined (no guessing from stderr). */
export function detectLevel(message: string): string | undefined {
  const head = message.length > 160 ? message.slice(0, 160) : message;
  const keyed = LEVEL_KEYED.exec(head);
  if (keyed) {
    const l = LEVELS[keyed[1].toLowerCase()];
    if (l) return l;
  }
  const token = LEVEL_TOKEN.exec(head.slice(0, 120));
  return token ? LEVELS[token[1].toLowerCase()] : undefined;
}
