import { statSync } from 'node:fs';
import type { Telemetry } from '../telemetry/telemetry';
import type { DetectConfig } from './detector';
import { BUILTIN_RULES, formatIssue, loadRules, ruleFiles, type Rule, type RuleIssue } from './rules';

/** The rule files and directories a config names. */
export function rulePaths(cfg: Pick<DetectConfig, 'builtin' | 'rules'>): string[] {
  return [...(cfg.builtin ? [BUILTIN_RULES] : []), ...cfg.rules];
}

/**
 * Where the detector's rules come from: the built-in pack (unless `detect.builtin: false`) plus
 * `detect.rules` paths, and reloading them when a file changes — checked every
 * `detect.reload_interval` by size and modification time (robust to editors that replace files
 * and to bind mounts, where inotify is unreliable) and on SIGHUP.
 *
 * A reload that finds any problem changes nothing: the rules in force stay in force and every
 * problem is logged with file, rule and line. At start-up, in contrast, the good rules load and
 * the broken ones are left out (and logged), so one bad file cannot disable detection.
 */
export class RuleSource {
  private timer: NodeJS.Timeout | undefined;
  private signature = '';
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

  reload(why: string): void {
    this.signature = this.fingerprint();
    let result: { rules: Rule[]; issues: RuleIssue[] };
    try {
      result = this.read();
    } catch (err) {
      result = { rules: [], issues: [{ file: this.paths.join(', '), message: (err as Error).message }] };
    }
    if (result.issues.length) {
      for (const i of result.issues) this.telemetry.event('detect.rule.invalid', 'error', `rules not reloaded (${why}): ${formatIssue(i)}`);
      this.telemetry.event('detect.rules.reload_failed', 'error', `rules not reloaded (${why}): ${result.issues.length} problem(s); the previous rules stay in force`);
      return;
    }
    this.apply(result.rules);
    this.telemetry.event('detect.rules.reloaded', 'info', `${result.rules.length} detection rules reloaded (${why})`);
  }

  private read(): { rules: Rule[]; issues: RuleIssue[] } {
    return loadRules(this.paths);
  }

  /** Names, sizes and modification times of every rule file; a missing path counts too. */
  private fingerprint(): string {
    const parts: string[] = [];
    for (const p of this.paths) {
      try {
        for (const f of ruleFiles([p])) {
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
