import { loadAll } from '../detect/rule-source';
import { formatIssue, testRules } from '../detect/rules';

/**
 * `dockward rules lint|test|list [paths…] [--sigma dir…]`: paths are rule files or directories
 * (default: the built-in pack), --sigma adds Sigma rules (their examples: none). lint: every problem with file, rule and line; test: lint, then every rule's
 * examples; list: one line per rule. Exit 1 on any problem.
 */
export function rulesCommand(action: 'lint' | 'test' | 'list', paths: string[], sigma: string[] = []): void {
  const { rules, issues } = loadAll({ builtin: paths.length === 0, rules: paths, sigma });
  const out = (s: string) => process.stdout.write(s + '\n');
  for (const i of issues) out(formatIssue(i));
  if (action === 'list') {
    for (const r of rules) out(`${r.id.padEnd(36)} ${r.severity.padEnd(8)} ${r.kinds.join(',').padEnd(14)} ${[...r.tactics, ...r.techniques].join(' ').padEnd(28)} ${r.name}${r.class === 'signal' ? ' (signal)' : ''}${r.enabled ? '' : ' (disabled)'}`);
  }
  let failures: string[] = [];
  if (action === 'test') {
    failures = testRules(rules);
    for (const f of failures) out(f);
    const examples = rules.reduce((n, r) => n + r.examples.match.length + r.examples.no_match.length, 0);
    out(`${rules.length} rules, ${examples} examples: ${failures.length} failed`);
  }
  if (action === 'lint') out(`${rules.length} rules, ${issues.length} problem${issues.length === 1 ? '' : 's'}`);
  if (issues.length || failures.length) process.exitCode = 1;
}
