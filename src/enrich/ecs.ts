import { hostname } from 'node:os';
import { EcsVersion } from '@elastic/ecs';
import { VERSION } from '../version';
import type { ContainerMeta } from './metadata';

/** Fields every dockward document carries, built once per stream. */
export function baseFields(type: 'logs' | 'metrics', dataset: string, namespace: string): Record<string, unknown> {
  const host = hostname();
  return {
    data_stream: { type, dataset, namespace },
    ecs: { version: EcsVersion },
    host: { name: host, hostname: host },
    observer: { hostname: host, name: host, product: 'dockward', vendor: 'dockward', version: VERSION, type: 'shipper' },
    agent: { type: 'dockward', name: host, version: VERSION },
  };
}

/** ECS `container.*` for one container. */
export function containerFields(meta: ContainerMeta): Record<string, unknown> {
  const tag = imageTag(meta.image);
  return {
    id: meta.id,
    name: meta.name,
    image: { name: meta.image, ...(tag ? { tag: [tag] } : {}), hash: { all: [meta.imageId] } },
    labels: meta.labels,
    runtime: 'docker',
  };
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
