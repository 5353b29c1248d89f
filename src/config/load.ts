import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, parse as parseYaml, isMap, type Document } from 'yaml';
import { lineOf } from './yaml-lines';
import { expandReferences } from './expand';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { configSchema, type Config } from './schema';

/**
 * Configuration comes from, lowest to highest precedence: defaults, one YAML file, environment
 * variables `DOCKWARD_<KEY>` (path segments joined by "__", e.g. DOCKWARD_ELASTICSEARCH__HOSTS),
 * and `--set key.path=value` flags. Values from env and flags are YAML scalars or flow collections
 * (`[a, b]`, `true`, `5s`). Validation is pure: every error names its key and where it was set.
 */
export interface ConfigSources {
  file?: string;
  /** The file's text, when already read (tests, `check --stdin`). */
  text?: string;
  env?: NodeJS.ProcessEnv;
  sets?: string[];
  /**
   * Receives what is ignored rather than refused: a `DOCKWARD_*` variable that names no config key
   * (DOCKWARD_ES_PASSWORD, meant for `${DOCKWARD_ES_PASSWORD}` in the file, is not an error).
   */
  warn?: (message: string) => void;
}

interface Origin {
  source: string;
  line?: number;
}

const ENV_PREFIX = 'DOCKWARD_';
/** Environment variables that belong to dockward but are not config keys. */
const ENV_RESERVED = new Set(['DOCKWARD_CONFIG', 'DOCKWARD_CACHE', 'DOCKWARD_ES_ROOT', 'DOCKWARD_ES_USER', 'DOCKWARD_ES_VERSION']);

export function loadConfig(sources: ConfigSources): Config {
  const env = sources.env ?? process.env;
  let raw: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  let doc: Document | undefined;
  let lines: LineCounter | undefined;

  if (sources.file !== undefined || sources.text !== undefined) {
    const name = sources.file ?? '<config>';
    let text = sources.text;
    if (text === undefined) {
      try {
        text = readFileSync(name, 'utf8');
      } catch (err) {
        throw new ConfigError([{ key: '', source: name, message: `cannot read: ${(err as Error).message}` }], { cause: err });
      }
    }
    lines = new LineCounter();
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((e) => ({ key: '', source: name, line: lines!.linePos(e.pos[0]).line, message: e.message.split('\n')[0] })),
      );
    }
    const unexpanded = expandReferences(doc, lines, env);
    if (unexpanded.length) throw new ConfigError(unexpanded.map((u) => ({ key: u.path.join('.'), source: name, line: u.line, message: u.message })));
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) {
      if (!isMap(doc.contents)) throw new ConfigError([{ key: '', source: name, line: 1, message: 'the file must hold a mapping of keys' }]);
      raw = value as Record<string, unknown>;
    }
  }

  // Docker's own variable is honoured as the default engine address, below the file.
  if (env.DOCKER_HOST && getPath(raw, ['docker', 'host']) === undefined) {
    setPath(raw, ['docker', 'host'], env.DOCKER_HOST);
    origins.set('docker.host', { source: 'env DOCKER_HOST' });
  }

  const overrides: ConfigIssue[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_RESERVED.has(name) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    applyOverride(raw, path, value, `env ${name}`, origins, overrides);
  }
  for (const set of sources.sets ?? []) {
    const eq = set.indexOf('=');
    if (eq <= 0) {
      overrides.push({ key: set, source: 'flag --set', message: 'expected key.path=value' });
      continue;
    }
    applyOverride(raw, set.slice(0, eq).trim().split('.'), set.slice(eq + 1), `flag --set ${set.slice(0, eq)}`, origins, overrides);
  }
  if (overrides.length) throw new ConfigError(overrides);

  let result = configSchema.safeParse(raw);
  // Unknown keys that came from the environment are dropped with a warning and the rest parsed
  // again (bounded: each round drops at least one key).
  for (let round = 0; !result.success && round < 64; round++) {
    const fromEnv = result.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path.map(String), k]) : [])).filter((p) => origins.get(p.join('.'))?.source.startsWith('env '));
    if (!fromEnv.length) break;
    for (const p of fromEnv) {
      sources.warn?.(`${origins.get(p.join('.'))!.source}: names no configuration key (${p.join('.')}); ignored`);
      deletePath(raw, p);
    }
    result = configSchema.safeParse(raw);
  }
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, origins, sources.file, doc, lines)));
}

function applyOverride(raw: Record<string, unknown>, path: string[], text: string, source: string, origins: Map<string, Origin>, issues: ConfigIssue[]): void {
  if (path.some((p) => p === '')) {
    issues.push({ key: path.join('.'), source, message: 'empty key segment' });
    return;
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch {
    // Not YAML (e.g. a cron expression "*/5 * * * * *"): the text itself is the value.
    value = text;
  }
  setPath(raw, path, value ?? text);
  origins.set(path.join('.'), { source });
}

function describeIssue(issue: z.core.$ZodIssue, origins: Map<string, Origin>, file: string | undefined, doc?: Document, lines?: LineCounter): ConfigIssue {
  const path = issue.path.map(String);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    // Name the unknown key itself, so the line points at the typo and not at its parent.
    path.push(issue.keys[0]);
    message = `unknown key${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ''}`;
  }
  const key = path.join('.');
  for (let n = path.length; n >= 0; n--) {
    const origin = origins.get(path.slice(0, n).join('.'));
    if (origin) return { key, message, source: origin.source };
  }
  if (doc && lines && file !== undefined) {
    const line = lineOf(doc, lines, path);
    return line ? { key, message, source: file, line } : { key, message, source: file };
  }
  return { key, message: `${message} (default)` };
}

function getPath(obj: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function deletePath(obj: Record<string, unknown>, path: string[]): void {
  const parent = getPath(obj, path.slice(0, -1));
  if (parent !== null && typeof parent === 'object') delete (parent as Record<string, unknown>)[path[path.length - 1]];
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}
