import { statSync } from 'node:fs';
import type { Telemetry } from '../telemetry/telemetry';
import type { DetectConfig } from './detector';
import { BUILTIN_RULES, formatIssue, loadRules, ruleFiles, type Rule, type RuleIssue } from './rules';
import { loadSigma, sigmaFiles } from './sigma';

/** The rule files and directories a config names. */
export function rulePaths(cfg: Pick<DetectConfig, 'builtin' | 'rules'>): string[] {
  return [...(cfg.builtin ? [BUILTIN_RULES] : []), ...cfg.rules];
}

/** dockward rules and Sigma rules together; an id used twice is a problem of the later file. */
export function loadAll(cfg: Pick<DetectConfig, 'builtin' | 'rules' | 'sigma'>): { rules: Rule[]; issues: RuleIssue[] } {
  const own = loadRules(rulePaths(cfg));
  const sigma = cfg.sigma.length ? loadSigma(cfg.sigma) : { rules: [], issues: [] };
  const ids = new Set(own.rules.map((r) => r.id));
  const issues = [...own.issues, ...sigma.issues];
  const rules = [...own.rules];
  for (const r of sigma.rules) {
    if (ids.has(r.id)) issues.push({ file: r.file, rule: r.name, message: `duplicate id ${r.id}` });
    else (ids.add(r.id), rules.push(r));
  }
  return { rules, issues };
}

/**
 * Where the detector's rules come from: the built-in pack (unless `detect.builtin: false`) plus
 * `detect.rules` paths and `detect.sigma` Sigma rules, and reloading them when a file changes — checked every
 * `detect.reload_interval` by size and modification time (robust to editors that replace files
 * and to bind mounts, where inotify is unreliable) and on SIGHUP.
 *
 * Nothing accepted is lost: a file that a reload finds broken keeps the rules it had, and every
 * problem is logged with file, rule and line. At start-up the good rules load and the broken ones
 * are left out (and logged), so one bad file cannot disable detection.
 */
export class RuleSource {
  private timer: NodeJS.Timeout | undefined;
  private signature = '';
  /** The rules in force, by the file they came from. */
  private accepted = new Map<string, Rule[]>();
  private readonly onHup = () => this.reload('SIGHUP');

  constructor(private readonly cfg: DetectConfig, private readonly telemetry: Telemetry, private readonly apply: (rules: Rule[]) => void) {}

  get paths(): string[] {
    return rulePaths(this.cfg);
  }

  /** The first load: good rules in, problems logged. */
  load(): Rule[] {
    this.signature = this.fingerprint();
    const { rules, issues } = this.read();
    for (const i of issues) this.telemetry.event('detect.rule.invalid', 'warn', `rule left out: ${formatIssue(i)}`);
    this.telemetry.event('detect.rules.loaded', 'info', `${rules.length} detection rules loaded`);
    this.accepted = byFile(rules);
    return rules;
  }

  start(): void {
    process.on('SIGHUP', this.onHup);
    if (this.cfg.reload_interval > 0) {
      this.timer = setInterval(() => {
        if (this.fingerprint() !== this.signature) this.reload('file change');
      }, this.cfg.reload_interval);
      this.timer.unref();
    }
  }

  stop(): void {
    process.off('SIGHUP', this.onHup);
    clearInterval(this.timer);
  }

  /**
   * Reads every file again. A file that now has a problem keeps the rules it had before (all of
   * them: half a file is not what its author meant), the others take their new rules.
   */
  reload(why: string): void {
    this.signature = this.fingerprint();
    let result: { rules: Rule[]; issues: RuleIssue[] };
    try {
      result = this.read();
    } catch (err) {
      this.telemetry.event('detect.rules.reload_failed', 'error', `rules not reloaded (${why}): ${(err as Error).message}; the previous rules stay in force`);
      return;
    }
    const fresh = byFile(result.rules);
    const broken = new Set(result.issues.map((i) => i.file));
    const next = new Map<string, Rule[]>();
    for (const file of new Set([...fresh.keys(), ...broken])) {
      const kept = broken.has(file) ? this.accepted.get(file) : undefined;
      next.set(file, kept ?? fresh.get(file) ?? []);
    }
    for (const i of result.issues) {
      const kept = this.accepted.get(i.file)?.length ?? 0;
      this.telemetry.event('detect.rule.invalid', 'error', `${formatIssue(i)} (${why}; ${kept ? `the ${kept} rule(s) this file had stay in force` : 'nothing from this file is in force'})`);
    }
    const seen = new Set<string>();
    const rules = [...next.values()].flat().filter((r) => !seen.has(r.id) && seen.add(r.id));
    this.accepted = next;
    this.apply(rules);
    this.telemetry.event('detect.rules.reloaded', 'info', `${rules.length} detection rules reloaded (${why})${broken.size ? `; ${broken.size} file(s) with problems kept their previous rules` : ''}`);
  }

  private read(): { rules: Rule[]; issues: RuleIssue[] } {
    return loadAll(this.cfg);
  }

  /** Names, sizes and modification times of every rule file; a missing path counts too. */
  private fingerprint(): string {
    const parts: string[] = [];
    const lists: Array<[string, (p: string) => string[]]> = [...this.paths.map((p) => [p, (x: string) => ruleFiles([x])] as [string, (p: string) => string[]]), ...this.cfg.sigma.map((p) => [p, (x: string) => sigmaFiles([x])] as [string, (p: string) => string[]])];
    for (const [p, files] of lists) {
      try {
        for (const f of files(p)) {
          const s = statSync(f);
          parts.push(`${f}:${s.size}:${s.mtimeMs}`);
        }
      } catch {
        parts.push(`${p}:missing`);
      }
    }
    return parts.join('\n');
  }
}

function byFile(rules: Rule[]): Map<string, Rule[]> {
  const m = new Map<string, Rule[]>();
  for (const r of rules) m.set(r.file, [...(m.get(r.file) ?? []), r]);
  return m;
}
