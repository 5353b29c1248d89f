import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { lineOf } from '../config/yaml-lines';
import { compileCondition, ConditionError, getter, type Condition, type Doc, type Matcher, type Scalar } from './condition';
import { requirement, RuleIndex, type Requirement } from './prefilter';

/**
 * Rule files: YAML with optional `lists` and `macros` (shared by every file loaded together) and
 * `rules`. Every problem is reported with file, rule and line; a file with problems contributes no
 * rules, the others still load.
 */
/** The built-in pack shipped with the package (dist/src/detect → rules/). */
export const BUILTIN_RULES = join(__dirname, '..', '..', '..', 'rules');

export const KINDS = ['log', 'process', 'event', 'file', 'config', 'stats', 'posture', 'network'] as const;
export type Kind = (typeof KINDS)[number];

const example = z.record(z.string(), z.unknown());
export const ruleSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-"'),
    name: z.string().min(1),
    description: z.string().min(1),
    kind: z.union([z.enum(KINDS), z.array(z.enum(KINDS)).min(1)]),
    severity: z.enum(['low', 'medium', 'high', 'critical']),
    risk_score: z.number().min(0).max(100),
    /**
     * alert: a match is an alert (it may page). signal: a building block, normal on its own
     * (discovery, archiving, reading the environment): recorded with its technique in
     * logs-dockward.signal-<ns> and added to the container's risk score, never paging by itself.
     */
    class: z.enum(['alert', 'signal']).default('alert'),
    tactics: z.array(z.string().regex(/^TA\d{4}$/, 'an ATT&CK tactic id, e.g. TA0002')).default([]),
    techniques: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id, e.g. T1059.004')).default([]),
    condition: z.custom<Condition>((v) => v !== null && typeof v === 'object', 'a condition mapping'),
    exceptions: z.array(z.custom<Condition>((v) => v !== null && typeof v === 'object', 'a condition mapping')).default([]),
    enabled: z.boolean().default(true),
    tags: z.array(z.string()).default([]),
    references: z.array(z.string()).default([]),
    version: z.number().int().positive().default(1),
    examples: z.object({ match: z.array(example).min(1), no_match: z.array(example).min(1) }).strict(),
  })
  .strict();
export const fileSchema = z
  .object({
    lists: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()]))).default({}),
    macros: z.record(z.string(), z.custom<Condition>((v) => v !== null && typeof v === 'object', 'a condition mapping')).default({}),
    rules: z.array(z.unknown()).default([]),
  })
  .strict();

export type RuleSpec = z.output<typeof ruleSchema>;
export interface Rule extends Omit<RuleSpec, 'kind' | 'condition' | 'exceptions'> {
  kinds: Kind[];
  file: string;
  /** True when the document satisfies the condition and no exception. */
  matches: Matcher;
  /** For a document that matched: the fields whose tests held, with their values. */
  explain?: (doc: Doc) => Record<string, unknown[]>;
  /** Literals one field must contain for the rule to match (see prefilter.ts). */
  prefilter?: Requirement;
}
export interface RuleIssue {
  file: string;
  rule?: string;
  line?: number;
  message: string;
}

export function formatIssue(i: RuleIssue): string {
  return `${i.file}${i.line ? `:${i.line}` : ''}${i.rule ? ` rule ${i.rule}` : ''}: ${i.message}`;
}

/** The document kind a rule applies to, from the document's dataset. */
export function kindOf(doc: Doc): Kind | undefined {
  const ds = (doc.data_stream as { dataset?: string } | undefined)?.dataset;
  switch (ds) {
    case 'dockward.container': return 'log';
    case 'dockward.process': return 'process';
    case 'dockward.event': return 'event';
    case 'dockward.file': return 'file';
    case 'dockward.config': return 'config';
    case 'dockward.stats': return 'stats';
    case 'dockward.network': return 'network';
    case 'dockward.posture': return 'posture';
    default: return undefined;
  }
}

/** Rule files from files and directories (*.yml, *.yaml), sorted by name. */
export function ruleFiles(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p).filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => join(p, n))
      : [p],
  );
}

export function loadRules(paths: string[]): { rules: Rule[]; issues: RuleIssue[] } {
  const parsed = ruleFiles(paths).map((file) => {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, prettyErrors: false });
    return { file, lines, doc };
  });
  const issues: RuleIssue[] = [];
  const lists: Record<string, Scalar[]> = {};
  const macros: Record<string, Condition> = {};
  const files: Array<{ file: string; lines: LineCounter; doc: (typeof parsed)[number]['doc']; rules: unknown[] }> = [];
  for (const { file, lines, doc } of parsed) {
    if (doc.errors.length) {
      for (const e of doc.errors) issues.push({ file, line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] });
      continue;
    }
    const res = fileSchema.safeParse(doc.toJS() ?? {});
    if (!res.success) {
      for (const i of res.error.issues) issues.push({ file, line: lineOf(doc, lines, i.path as Array<string | number>), message: `${i.path.join('.')}: ${i.message}` });
      continue;
    }
    Object.assign(lists, res.data.lists);
    Object.assign(macros, res.data.macros);
    files.push({ file, lines, doc, rules: res.data.rules });
  }
  const rules: Rule[] = [];
  const ids = new Map<string, string>();
  for (const { file, lines, doc, rules: specs } of files) {
    specs.forEach((raw, index) => {
      const id = (raw as { id?: unknown })?.id !== undefined ? String((raw as { id?: unknown }).id) : `#${index + 1}`;
      const issue = (path: Array<string | number>, message: string) => issues.push({ file, rule: id, line: lineOf(doc, lines, ['rules', index, ...path]), message });
      const res = ruleSchema.safeParse(raw);
      if (!res.success) {
        for (const i of res.error.issues) issue(i.path as Array<string | number>, `${i.path.join('.') || 'rule'}: ${i.code === 'unrecognized_keys' ? `unknown key ${i.keys.join(', ')}` : i.message}`);
        return;
      }
      const spec = res.data;
      if (ids.has(spec.id)) return issue(['id'], `duplicate id (also in ${ids.get(spec.id)})`);
      ids.set(spec.id, file);
      let cond: Matcher;
      let exceptions: Matcher[];
      const leaves: Array<{ field: string; match: Matcher }> = [];
      try {
        cond = compileCondition(spec.condition, { lists, macros, leaves }, ['condition']);
        exceptions = spec.exceptions.map((e, i) => compileCondition(e, { lists, macros }, ['exceptions', i]));
      } catch (err) {
        if (err instanceof ConditionError) return issue(err.path, err.message);
        throw err;
      }
      const { kind, condition: _c, exceptions: _e, ...rest } = spec;
      const kinds = Array.isArray(kind) ? kind : [kind];
      rules.push({
        ...rest,
        kinds,
        file,
        matches: (d) => cond(d) && !exceptions.some((m) => m(d)),
        explain: (d) => explainLeaves(leaves, d),
        prefilter: requirement(spec.condition, { lists, macros }),
      });
    });
  }
  return { rules, issues };
}

const MAX_EXPLAINED = 256;

function explainLeaves(leaves: Array<{ field: string; match: Matcher }>, doc: Doc): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const l of leaves) {
    if (out[l.field] || !l.match(doc)) continue;
    out[l.field] = getter(l.field)(doc).map((v) => (typeof v === 'string' && v.length > MAX_EXPLAINED ? `${v.slice(0, MAX_EXPLAINED)}…` : v));
  }
  return out;
}

/** Runs every rule's examples; each failure names the rule and the example. */
export function testRules(rules: Rule[]): string[] {
  const failures: string[] = [];
  for (const r of rules) {
    r.examples.match.forEach((ex, i) => {
      if (!r.matches(ex)) failures.push(`${r.file} rule ${r.id}: examples.match[${i}] does not match`);
      // The prefilter must never hide a document the rule matches.
      else if (r.prefilter && !new RuleIndex([r]).candidates(ex).includes(r)) failures.push(`${r.file} rule ${r.id}: examples.match[${i}] is skipped by the literal prefilter`);
    });
    r.examples.no_match.forEach((ex, i) => r.matches(ex) && failures.push(`${r.file} rule ${r.id}: examples.no_match[${i}] matches`));
  }
  return failures;
}
