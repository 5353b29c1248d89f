import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { lineOf } from '../config/yaml-lines';
import { getter, type Doc, type Matcher } from './condition';
import type { Kind, Rule, RuleIssue } from './rules';
import { allOf, anyOf, reqOf, withReq } from './prefilter';
import { compileSigmaCondition, SigmaConditionError } from './sigma-condition';
import { compileField, SigmaError, type Target } from './sigma-values';

/**
 * Sigma rules (YAML, specification v2) compiled to dockward Rules. Only what dockward can observe
 * is accepted: Linux process creation (process documents), file creation (drift documents) and
 * keyword searches (container log lines); everything else is reported, never guessed at. Every
 * problem is an issue with file, rule and line; a bad rule or file never stops the others.
 */

const LEVELS: Record<string, { severity: Rule['severity']; risk: number }> = {
  informational: { severity: 'low', risk: 21 },
  low: { severity: 'low', risk: 21 },
  medium: { severity: 'medium', risk: 47 },
  high: { severity: 'high', risk: 73 },
  critical: { severity: 'critical', risk: 99 },
};

/** Enterprise ATT&CK tactics; Sigma tags spell them with `_` (older) or `-` (v2). */
const TACTICS: Record<string, string> = {
  reconnaissance: 'TA0043', resource_development: 'TA0042', initial_access: 'TA0001', execution: 'TA0002',
  persistence: 'TA0003', privilege_escalation: 'TA0004', defense_evasion: 'TA0005', credential_access: 'TA0006',
  discovery: 'TA0007', lateral_movement: 'TA0008', collection: 'TA0009', command_and_control: 'TA0011',
  exfiltration: 'TA0010', impact: 'TA0040',
};

/** Sigma's process_creation taxonomy → the ECS fields of dockward's process documents. */
const PROCESS_FIELDS: Record<string, Target> = {
  Image: { field: 'process.executable', name: 'process.name' },
  CommandLine: { field: 'process.command_line' },
  ParentImage: { field: 'process.parent.executable', name: 'process.parent.name' },
  ParentCommandLine: { field: 'process.parent.command_line' },
  // ECS puts the user in user.name; dockward's process documents carry the process's effective
  // user as process.user.name: either holds the value.
  User: { field: 'user.name', also: ['process.user.name'] },
  CurrentDirectory: { field: 'process.working_directory' },
  ProcessId: { field: 'process.pid' },
  ParentProcessId: { field: 'process.parent.pid' },
};
const FILE_FIELDS: Record<string, Target> = { TargetFilename: { field: 'file.path' } };
/** Sigma fields of a logsource dockward knows but does not carry, with why: a refusal, never a rule that cannot match. */
const NOT_CARRIED: Record<string, string> = {
  LogonId: "Sysmon for Linux's logon id is the audit login uid (auid, ECS user.audit.id); dockward's process documents do not carry it",
};
const MESSAGE: Target = { field: 'message' };

interface Source {
  kind: Kind;
  /** Field map; undefined: keywords only. */
  fields?: Record<string, Target>;
  /** What the document must also be: a process start, a file written. */
  guard: Matcher;
  label: string;
}

const eventType = getter('event.type');
const PROCESS_SOURCE: Omit<Source, 'label'> = { kind: 'process', fields: PROCESS_FIELDS, guard: (d) => eventType(d).includes('start') };
const FILE_SOURCE: Omit<Source, 'label'> = { kind: 'file', fields: FILE_FIELDS, guard: (d) => eventType(d).some((t) => t === 'creation' || t === 'change') };

/** Sigma files from files and directories (recursively: *.yml, *.yaml), sorted by path. */
export function sigmaFiles(paths: string[]): string[] {
  const walk = (p: string): string[] =>
    statSync(p).isDirectory() ? readdirSync(p).sort().flatMap((n) => { const f = join(p, n); return statSync(f).isDirectory() ? walk(f) : /\.ya?ml$/.test(n) ? [f] : []; }) : [p];
  return paths.flatMap(walk);
}

export function loadSigma(paths: string[]): { rules: Rule[]; issues: RuleIssue[] } {
  const rules: Rule[] = [];
  const issues: RuleIssue[] = [];
  const ids = new Map<string, string>();
  let files: string[] = [];
  for (const p of paths) {
    try {
      files = files.concat(sigmaFiles([p]));
    } catch (err) {
      issues.push({ file: p, message: `cannot read: ${(err as Error).message}` });
    }
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      issues.push({ file, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const lines = new LineCounter();
    const all = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    // A stray `---` at the end leaves an empty document: not a second rule.
    const docs = all.filter((d, i) => i === 0 || d.contents !== null || d.errors.length > 0);
    if (docs.length === 0) {
      issues.push({ file, message: 'no Sigma rule in the file' });
      continue;
    }
    const doc = docs[0];
    if (docs.length > 1) {
      const at = docs[1].range?.[0];
      issues.push({ file, line: at === undefined ? undefined : lines.linePos(at).line, message: 'several YAML documents (a rule collection, e.g. action: global): not supported' });
      continue;
    }
    if (doc.errors.length) {
      for (const e of doc.errors) issues.push({ file, line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] });
      continue;
    }
    const raw = doc.toJS() as unknown;
    const meta = isMap(raw) ? raw : {};
    const ruleName = typeof meta.title === 'string' ? meta.title : typeof meta.id === 'string' ? meta.id : undefined;
    try {
      if (!isMap(raw)) throw new SigmaError([], 'a Sigma rule is a mapping');
      const rule = compileRule(raw, file);
      const other = ids.get(rule.id);
      if (other) throw new SigmaError(['id'], `duplicate id ${rule.id} (also in ${other})`);
      ids.set(rule.id, file);
      rules.push(rule);
    } catch (err) {
      if (!(err instanceof SigmaError)) throw err;
      issues.push({ file, rule: ruleName, line: err.path.length ? lineOf(doc, lines, err.path) : undefined, message: err.message });
    }
  }
  return { rules, issues };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function compileRule(raw: Record<string, unknown>, file: string): Rule {
  for (const k of ['correlation', 'filter', 'action'] as const) {
    if (raw[k] !== undefined) throw new SigmaError([k], `${k === 'action' ? 'rule collections' : k === 'filter' ? 'Sigma filters' : 'correlation rules'} are not supported`);
  }
  const title = raw.title;
  if (typeof title !== 'string' || !title.trim()) throw new SigmaError(['title'], 'title: a non-empty string is required');
  if (raw.status === 'deprecated' || raw.status === 'unsupported') throw new SigmaError(['status'], `status ${raw.status}: rule skipped`);
  const level = raw.level === undefined ? LEVELS.medium : LEVELS[String(raw.level)];
  if (!level) throw new SigmaError(['level'], `level: one of ${Object.keys(LEVELS).join(', ')}`);
  const source = logsource(raw.logsource);
  const detection = raw.detection;
  if (!isMap(detection)) throw new SigmaError(['detection'], 'detection: a mapping is required');
  const match = compileDetection(detection, source);

  const tactics = new Set<string>();
  const techniques = new Set<string>();
  const tags: string[] = [];
  for (const tag of Array.isArray(raw.tags) ? raw.tags.map(String) : []) {
    const t = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(tag);
    const tactic = /^attack\.(.+)$/i.exec(tag)?.[1].toLowerCase().replace(/-/g, '_');
    if (t) techniques.add(t[1].toUpperCase());
    else if (tactic && TACTICS[tactic]) tactics.add(TACTICS[tactic]);
    else tags.push(tag);
  }
  const sigmaId = typeof raw.id === 'string' && raw.id ? raw.id : basename(file).replace(/\.ya?ml$/, '');
  const { guard } = source;
  return {
    id: `sigma-${sigmaId.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    name: title,
    description: typeof raw.description === 'string' && raw.description.trim() ? raw.description.trim() : title,
    severity: level.severity,
    class: 'alert',
    risk_score: level.risk,
    tactics: [...tactics],
    techniques: [...techniques],
    enabled: true,
    tags,
    references: Array.isArray(raw.references) ? raw.references.filter((r): r is string => typeof r === 'string') : [],
    version: 1,
    examples: { match: [], no_match: [] },
    kinds: [source.kind],
    file,
    matches: (d: Doc) => guard(d) && match(d),
    prefilter: reqOf(match),
  };
}

/**
 * The document kind for a logsource. Process creation and file events map to dockward's
 * collectors; a Linux (or Docker, or product-less) source with no category is log lines, where only
 * keywords have a meaning (the loader rejects fields there).
 */
function logsource(ls: unknown): Source {
  if (!isMap(ls)) throw new SigmaError(['logsource'], 'logsource: a mapping is required');
  const product = ls.product === undefined ? undefined : String(ls.product);
  const category = ls.category === undefined ? undefined : String(ls.category);
  const service = ls.service === undefined ? undefined : String(ls.service);
  const label = Object.entries({ product, category, service }).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
  const reject = (key: string) => new SigmaError(['logsource', key], `unsupported logsource (${label}): dockward sees Linux process starts, file creation and log lines`);
  if (product !== undefined && product !== 'linux' && !(product === 'docker' && category === undefined)) throw reject('product');
  if (category === 'process_creation') return { ...PROCESS_SOURCE, label };
  if (category === 'file_event' || category === 'file_create') return { ...FILE_SOURCE, label };
  if (category !== undefined) throw reject('category');
  return { kind: 'log', guard: () => true, label };
}

function compileDetection(detection: Record<string, unknown>, source: Source): Matcher {
  const searches = new Map<string, Matcher>();
  for (const [name, body] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    searches.set(name, compileSearch(body, ['detection', name], source));
  }
  const cond = detection.condition;
  const conds = Array.isArray(cond) ? cond : [cond];
  if (cond === undefined || conds.length === 0 || conds.some((c) => typeof c !== 'string')) throw new SigmaError(['detection', 'condition'], 'condition: a string or a list of strings is required');
  const compiled = conds.map((c, i) => {
    try {
      return compileSigmaCondition(c as string, searches);
    } catch (err) {
      if (err instanceof SigmaConditionError) throw new SigmaError(['detection', 'condition', ...(Array.isArray(cond) ? [i] : [])], `condition: ${err.message}`);
      throw err;
    }
  });
  return compiled.length === 1 ? compiled[0] : withReq((d) => compiled.some((m) => m(d)), anyOf(compiled.map(reqOf)));
}

/** A search identifier: a map (AND of fields), a list of maps (OR), or keywords (a list of strings). */
function compileSearch(body: unknown, path: Array<string | number>, source: Source): Matcher {
  if (typeof body === 'string' || typeof body === 'number') return keywords([], body, path, source);
  if (isMap(body)) {
    const parts = Object.entries(body).map(([key, value]) => {
      const [field, ...mods] = key.split('|');
      if (field === '') return keywords(mods, value, [...path, key], source);
      const target = source.fields?.[field];
      if (!target && source.fields && NOT_CARRIED[field]) throw new SigmaError([...path, key], `unsupported field: ${field} in ${path[1]}: ${NOT_CARRIED[field]}`);
      if (!target) {
        const known = source.fields ? `fields: ${Object.keys(source.fields).join(', ')}` : 'keywords only';
        throw new SigmaError([...path, key], `unsupported logsource/field: ${field} in ${path[1]} (logsource ${source.label} takes ${known})`);
      }
      return compileField(target, `${field} in ${path[1]}`, mods, value, [...path, key]);
    });
    if (parts.length === 0) throw new SigmaError(path, 'an empty search matches nothing');
    return parts.length === 1 ? parts[0] : withReq((d) => parts.every((m) => m(d)), allOf(parts.map(reqOf)));
  }
  if (Array.isArray(body) && body.length > 0) {
    if (body.every((v) => typeof v === 'string' || typeof v === 'number')) return keywords([], body, path, source);
    const parts = body.map((item, i) => {
      if (!isMap(item) && typeof item !== 'string' && typeof item !== 'number') throw new SigmaError([...path, i], 'a list holds keywords or field mappings');
      return compileSearch(item, [...path, i], source);
    });
    return withReq((d) => parts.some((m) => m(d)), anyOf(parts.map(reqOf)));
  }
  throw new SigmaError(path, 'a search identifier is a mapping, a list of mappings, or a list of keywords');
}

/** Keywords (Sigma: anywhere in the event) are searched in the log line, case-insensitively. */
function keywords(mods: string[], value: unknown, path: Array<string | number>, source: Source): Matcher {
  if (source.kind !== 'log') throw new SigmaError(path, `unsupported logsource/field: keyword search in a ${source.label} rule (only log rules take keywords)`);
  return compileField(MESSAGE, `keywords in ${path[1]}`, mods, value, path, true);
}
