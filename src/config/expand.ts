import { isPair, isSeq, parse as parseYaml, visit, type Document, type LineCounter } from 'yaml';

/** A reference that cannot be expanded: where it is (path into the file's values) and why. */
export interface ExpandIssue {
  path: Array<string | number>;
  message: string;
}

/** `${NAME}`, `${NAME:default}`, `${NAME:?message}` as Beats writes them; `$${` is a literal `${`. */
const REF = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_.]*)(?::(\?)?([^}]*))?\}/g;
/** An expanded string past this is refused: a variable holding megabytes is a mistake. */
const MAX_EXPANDED = 1024 * 1024;

/**
 * Environment references in the config file's string values, expanded in place like Beats'
 * `${VAR}` (a variable, a default after `:`, an error after `:?`). A plain (unquoted) value that is
 * one reference and nothing else takes the variable's YAML type (`port: ${PORT}` is a number,
 * `hosts: ${HOSTS}` may be `[a, b]`); a quoted one, or one inside a longer string, stays text, so
 * `password: "${ES_PASSWORD}"` is a string whatever the password looks like. Expanded text is not
 * expanded again, so a value cannot smuggle in another variable. Keys are never expanded. Returns
 * the references that could not be expanded, each with its key path and line.
 */
export function expandReferences(doc: Document, lines: LineCounter, env: NodeJS.ProcessEnv): Array<ExpandIssue & { line?: number }> {
  const issues: Array<ExpandIssue & { line?: number }> = [];
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const path = keyPath(ancestors, node);
      const found: ExpandIssue[] = [];
      const value = expandString(node.value, env, found, path, node.type === 'PLAIN');
      for (const f of found) issues.push({ ...f, line: node.range ? lines.linePos(node.range[0]).line : undefined });
      if (found.length === 0) node.value = value;
    },
  });
  return issues;
}

/** The key path of a node from the visitor's ancestors: map keys and sequence indices. */
function keyPath(ancestors: readonly unknown[], node: unknown): Array<string | number> {
  const path: Array<string | number> = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const a = chain[i];
    if (isPair(a)) path.push(String((a.key as { value?: unknown } | null)?.value));
    else if (isSeq(a)) path.push(a.items.indexOf(chain[i + 1] as never));
  }
  return path;
}

function expandString(s: string, env: NodeJS.ProcessEnv, issues: ExpandIssue[], path: Array<string | number>, typed: boolean): unknown {
  if (!s.includes('${')) return s;
  let whole: string | undefined;
  let failed = false;
  const text = s.replace(REF, (all, escaped: string | undefined, name: string, required: string | undefined, alt: string | undefined, offset: number) => {
    if (escaped) return all.slice(1);
    const v = env[name];
    let out: string;
    if (v !== undefined && v !== '') out = v;
    else if (required) {
      issues.push({ path, message: `environment variable ${name} is not set${alt ? `: ${alt}` : ''}` });
      failed = true;
      return '';
    } else if (alt !== undefined) out = alt;
    else {
      issues.push({ path, message: `environment variable ${name} is not set (write \${${name}:default} to give a default)` });
      failed = true;
      return '';
    }
    if (offset === 0 && all.length === s.length) whole = out;
    return out;
  });
  if (failed) return s;
  if (text.length > MAX_EXPANDED) {
    issues.push({ path, message: `expands to ${text.length} characters, over the ${MAX_EXPANDED} limit` });
    return s;
  }
  if (whole !== undefined && typed) {
    try {
      const typed = parseYaml(whole) as unknown;
      // Only scalars and flow collections take a type; a variable that parses to null stays text.
      if (typed !== null && typed !== undefined) return typed;
    } catch {
      // not YAML: the text itself
    }
  }
  return text;
}
