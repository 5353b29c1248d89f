import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema } from './schema';
import { byteSize, duration } from './units';

/**
 * The configuration reference (docs/configuration-reference.md), generated from the same zod
 * schema the loader validates with: every key with its type, default, environment variable and an
 * example. `dockward config reference` prints it; a test fails when the committed copy drifts from
 * the schema. Meanings stay hand-written in docs/configuration.md, unless a schema node carries a
 * zod description (`.describe()`/`.meta()`), which then shows in its own column.
 */
export interface ReferenceEntry {
  /** Dotted path; `[]` marks the items of a list, `<name>` the keys of a map. */
  key: string;
  type: string;
  /** As written in YAML, or undefined when the key has no default. */
  default?: string;
  /** `DOCKWARD_A__B`, or undefined inside lists (set the whole list instead). */
  env?: string;
  example: string;
  description?: string;
}

type Schema = z.core.$ZodType;
interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  element?: Schema;
  options?: Schema[];
  entries?: Record<string, string>;
  values?: unknown[];
  shape?: Record<string, Schema>;
  valueType?: Schema;
  defaultValue?: unknown;
  checks?: Array<{ _zod: { def: { check: string; value?: unknown; inclusive?: boolean; format?: string } } }>;
  format?: string;
}

const def = (s: Schema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const description = (s: Schema): string | undefined => (s as unknown as { description?: string }).description;

/** Examples that a type alone cannot suggest well. */
const EXAMPLES: Record<string, string> = {
  'docker.host': 'unix:///run/user/1000/docker.sock',
  'docker.tls.ca': '/etc/dockward/docker/ca.pem',
  'docker.tls.cert': '/etc/dockward/docker/cert.pem',
  'docker.tls.key': '/etc/dockward/docker/key.pem',
  'elasticsearch.hosts': '[https://es01:9200, https://es02:9200]',
  'elasticsearch.username': 'dockward',
  'elasticsearch.password': '${DOCKWARD_ES_PASSWORD}',
  'elasticsearch.api_key': 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
  'elasticsearch.ssl.certificate_authorities': '[/etc/dockward/ca.crt]',
  namespace: 'prod',
  // Under the default threshold (100): rearm must stay below it.
  'detect.risk.rearm': '40',
  state_dir: '/var/lib/dockward',
  'collectors.logs.include_names': '[web-*, api]',
  'collectors.logs.exclude_names': '["*-sidecar"]',
  'detect.rules': '[/etc/dockward/rules]',
  'collectors.events.exclude_actions': '[top, exec_start]',
  'collectors.drift.ignore_paths': '[/proc, /sys, /dev, /tmp]',
  'detect.sigma': '[/etc/dockward/sigma]',
  'http.host': '0.0.0.0',
  'http.port': '5067',
};

/** Every leaf key of the schema, depth first in declaration order. */
export function referenceEntries(schema: Schema = configSchema): ReferenceEntry[] {
  const out: ReferenceEntry[] = [];
  walk(schema, [], true, out);
  return out;
}

function walk(node: Schema, path: string[], envable: boolean, out: ReferenceEntry[]): void {
  const { inner, dflt, desc } = unwrap(node);
  const d = def(inner);
  if (d.type === 'object' && d.shape) {
    for (const [k, v] of Object.entries(d.shape)) walk(v, [...path, k], envable, out);
    return;
  }
  if (d.type === 'array' && d.element && def(unwrap(d.element).inner).type === 'object') {
    out.push({ ...entry(path, 'list of objects (keys below)', dflt, envable, desc, inner), example: '[{…}]' });
    walk(d.element, [...path.slice(0, -1), `${path[path.length - 1]}[]`], false, out);
    return;
  }
  if (d.type === 'record' && d.valueType && def(unwrap(d.valueType).inner).type === 'object') {
    out.push({ ...entry(path, 'map of objects (keys below)', dflt, envable, desc, inner), example: '{<name>: {…}}' });
    walk(d.valueType, [...path, '<name>'], envable, out);
    return;
  }
  const variants = d.type === 'record' && d.valueType ? objectVariants(d.valueType) : undefined;
  if (variants) {
    // A map of tagged objects (e.g. destinations by `type`): each kind's keys, marked with its tag.
    out.push({ ...entry(path, `map of objects, by ${variants.map((v) => v.tag).join(' / ')} (keys below)`, dflt, envable, desc, inner), example: '{<name>: {…}}' });
    for (const v of variants) {
      const start = out.length;
      walk(v.schema, [...path, '<name>'], envable, out);
      for (const e of out.slice(start)) e.type = `${e.type} — ${v.tag}`;
    }
    return;
  }
  out.push(entry(path, typeName(inner), dflt, envable, desc, inner));
}

/** The options of a union of objects each tagged by a literal key (`type: webhook`), or undefined. */
function objectVariants(node: Schema): Array<{ tag: string; schema: Schema }> | undefined {
  const u = def(unwrap(node).inner);
  if (u.type !== 'union' || !u.options?.length) return undefined;
  const out: Array<{ tag: string; schema: Schema }> = [];
  for (const o of u.options) {
    const od = def(unwrap(o).inner);
    if (od.type !== 'object' || !od.shape) return undefined;
    const tagKey = Object.keys(od.shape).find((k) => def(unwrap(od.shape![k]).inner).type === 'literal');
    if (!tagKey) return undefined;
    out.push({ tag: `${tagKey}: ${String(def(unwrap(od.shape[tagKey]).inner).values?.[0])}`, schema: o });
  }
  return out;
}

function entry(path: string[], type: string, dflt: unknown, envable: boolean, desc: string | undefined, node: Schema): ReferenceEntry {
  const key = path.join('.');
  const e: ReferenceEntry = { key, type, example: EXAMPLES[key] ?? validExample(node, example(node, dflt, path), dflt) };
  if (dflt !== undefined) e.default = yamlValue(dflt);
  if (envable) e.env = `DOCKWARD_${path.map((p) => (p === '<name>' ? '<NAME>' : p.toUpperCase())).join('__')}`;
  if (desc) e.description = desc;
  return e;
}

/** A generated example the key's own schema refuses (a pattern, a bound) gives way to the default. */
function validExample(node: Schema, text: string, dflt: unknown): string {
  let value: unknown;
  try {
    value = parseYaml(text) ?? text;
  } catch {
    value = text;
  }
  const ok = (v: unknown) => z.safeParse(node, v).success;
  if (ok(value)) return text;
  if (dflt !== undefined) return yamlValue(dflt);
  // No default: common shapes of addresses and paths, as a single value or a list.
  for (const c of ['https://host.example:5601', '127.0.0.1:9200', '/etc/dockward/file']) {
    if (ok(c)) return c;
    if (ok([c])) return `[${c}]`;
  }
  return text;
}

/** Strips optional/default/prefault/nullable/readonly wrappers, keeping the outermost default. */
function unwrap(node: Schema): { inner: Schema; dflt: unknown; desc?: string } {
  let inner = node;
  let dflt: unknown;
  let desc = description(node);
  for (;;) {
    const d = def(inner);
    if ((d.type === 'default' || d.type === 'prefault') && dflt === undefined) dflt = d.defaultValue;
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'nonoptional', 'catch'].includes(d.type) && d.innerType) {
      inner = d.innerType;
      desc ??= description(inner);
      continue;
    }
    return { inner, dflt: isEmptyObjectDefault(dflt) ? undefined : dflt, desc };
  }
}

function isEmptyObjectDefault(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
}

function typeName(node: Schema): string {
  if (node === duration) return 'duration';
  if (node === byteSize) return 'size';
  const { inner } = unwrap(node);
  if (inner !== node) return typeName(inner);
  const d = def(node);
  switch (d.type) {
    case 'string':
      return d.format && d.format !== 'regex' ? `string (${d.format})` : 'string';
    case 'number':
      return numberName(d);
    case 'boolean':
      return 'boolean';
    case 'enum':
      return `one of ${Object.values(d.entries ?? {}).map((v) => `\`${v}\``).join(', ')}`;
    case 'literal':
      return (d.values ?? []).map((v) => `\`${String(v)}\``).join(', ');
    case 'array':
      return `list of ${plural(typeName(d.element!))}`;
    case 'record':
      return `map of ${plural(typeName(d.valueType!))}`;
    case 'union':
      return (d.options ?? []).map(typeName).join(' or ');
    case 'pipe':
      return typeName(d.in!);
    case 'object':
      return `{${Object.keys(d.shape ?? {}).join(', ')}}`;
    case 'unknown':
    case 'any':
      return 'any';
    default:
      return d.type;
  }
}

function plural(t: string): string {
  return /^(string|number|integer|boolean|duration|size)\b/.test(t) ? t.replace(/^(\w+)/, '$1s') : t;
}

function numberName(d: Def): string {
  let int = false;
  let min: string | undefined;
  let max: string | undefined;
  for (const c of d.checks ?? []) {
    const cd = c._zod.def;
    if (cd.check === 'number_format' && /int/.test(cd.format ?? '')) int = true;
    if (cd.check === 'greater_than') min = `${cd.inclusive ? '≥' : '>'} ${String(cd.value)}`;
    if (cd.check === 'less_than') max = `${cd.inclusive ? '≤' : '<'} ${String(cd.value)}`;
  }
  const bounds = [min, max].filter(Boolean).join(', ');
  return `${int ? 'integer' : 'number'}${bounds ? ` (${bounds})` : ''}`;
}

function example(node: Schema, dflt: unknown, path: string[]): string {
  if (node === duration) return dflt === '30s' || dflt === 30_000 ? '1m' : '30s';
  if (node === byteSize) return dflt === '64mb' ? '128mb' : '64mb';
  const d = def(node);
  const last = path[path.length - 1] ?? '';
  switch (d.type) {
    case 'boolean':
      return dflt === true ? 'false' : 'true';
    case 'enum': {
      const values = Object.values(d.entries ?? {});
      return String(values.find((v) => v !== dflt) ?? values[0]);
    }
    case 'literal':
      return String((d.values ?? [])[0]);
    case 'number': {
      const n = typeof dflt === 'number' ? dflt : 0;
      const max = (d.checks ?? []).map((c) => c._zod.def).find((c) => c.check === 'less_than');
      const guess = n > 0 ? n * 2 : 1;
      return String(max && typeof max.value === 'number' && guess > max.value ? n : guess);
    }
    case 'string':
      if (d.format === 'url') return 'https://example.com/hook';
      if (/schedule$/.test(last)) return yamlValue('*/30 * * * * *');
      if (typeof dflt === 'string') return dflt;
      return /(path|file|dir|ca|cert|key)$/.test(last) ? `/etc/dockward/${last}` : `my-${last.replace(/_/g, '-')}`;
    case 'array': {
      const item = unwrap(d.element!).inner;
      return def(item).type === 'string' ? '[a, b]' : `[${example(item, undefined, [last])}]`;
    }
    case 'record':
      return `{${last === 'labels' ? 'team' : 'name'}: ${example(unwrap(d.valueType!).inner, undefined, [last])}}`;
    case 'union':
      return example(d.options![0], dflt, path);
    case 'pipe':
      return example(d.in!, dflt, path);
    default:
      return dflt !== undefined ? yamlValue(dflt) : '…';
  }
}

/** A value as one would write it in YAML flow style (and in a DOCKWARD_* variable). */
function yamlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${yamlValue(x)}`).join(', ')}}`;
  if (typeof v === 'string') return v === '' || /^[\s[\]{},#&*!|>'"%@`]|: |\s$/.test(v) || /^(true|false|null|~|-?\d+(\.\d+)?)$/.test(v) ? JSON.stringify(v) : v;
  return String(v);
}

const cell = (s: string | undefined): string => (s === undefined ? '—' : `\`${s.replace(/\|/g, '\\|')}\``);

/** The Markdown document: one table per top-level section. */
export function renderReference(schema: Schema = configSchema): string {
  const entries = referenceEntries(schema);
  const withDesc = entries.some((e) => e.description);
  const lines = [
    '<!-- Generated from src/config/schema.ts by `dockward config reference` (npm run docs:config). Do not edit: a test fails when this file and the schema differ. -->',
    '# Configuration reference',
    '',
    'Every key dockward accepts, generated from the schema the loader validates with. What each key',
    'means and how sources combine (file < `DOCKWARD_*` variables < `-E key=value` flags): see',
    '[configuration.md](configuration.md).',
    '',
    '- **type**: `duration` is `500ms`, `5s`, `1m`, `2h` or milliseconds; `size` is `512kb`, `5mb`,',
    '  `1gib` or bytes; lists and maps are written in YAML flow style (`[a, b]`, `{k: v}`), also in',
    '  variables and flags.',
    '- **environment variable**: the key in upper case, path segments joined by `__`. Keys under',
    '  `[]` (the items of a list) have none: set the whole list, e.g. as YAML flow.',
    '- **example**: a value as written in the YAML file, a variable or a flag.',
    '',
  ];
  const sections = new Map<string, ReferenceEntry[]>();
  for (const e of entries) {
    const top = e.key.includes('.') ? e.key.slice(0, e.key.indexOf('.')).replace(/\[\]$/, '') : '(top level)';
    sections.set(top, [...(sections.get(top) ?? []), e]);
  }
  for (const [name, list] of sections) {
    lines.push(`## ${name === '(top level)' ? 'Top level' : `\`${name}\``}`, '');
    lines.push(`| key | type | default | environment variable | example |${withDesc ? ' meaning |' : ''}`);
    lines.push(`|---|---|---|---|---|${withDesc ? '---|' : ''}`);
    for (const e of list) {
      lines.push(
        `| \`${e.key}\` | ${e.type.replace(/\|/g, '\\|')} | ${cell(e.default)} | ${e.env ? `\`${e.env}\`` : '—'} | ${cell(e.example)} |${withDesc ? ` ${e.description ?? ''} |` : ''}`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
