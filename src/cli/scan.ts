import { writeFileSync } from 'node:fs';
import { anyGlob } from '../config/glob';
import { connectDocker, probeEngine } from '../docker/engine';
import { resolveHostIdentity } from '../enrich/host';
import { SEVERITIES, severityAtLeast, type Severity } from '../posture/check';
import { FORMATS, toJson, toSarif, toTable, type Format } from '../posture/formats';
import { PostureScanner } from '../posture/scan';
import { loadOrExit, type GlobalOptions } from './common';

export interface ScanOptions extends GlobalOptions {
  format: string;
  failOn: string;
  all?: boolean;
  name: string[];
  failedOnly?: boolean;
  output?: string;
  color?: boolean;
}

/** Exit codes, for CI: findings are 1 so that "any non-zero fails the job" works; usage and engine errors differ. */
export const SCAN_EXIT = { clean: 0, findings: 1, usage: 2, engine: 3 } as const;

/**
 * `dockward scan`: the CIS checks once, against the engine only (no Elasticsearch): the daemon,
 * the containers (running and created; --all adds stopped ones) and their images. Exit 1 when a
 * check at or above --fail-on failed.
 */
export async function scanCommand(opts: ScanOptions): Promise<void> {
  const cfg = loadOrExit(opts);
  const usage = (msg: string) => {
    process.stderr.write(`dockward scan: ${msg}\n`);
    process.exit(SCAN_EXIT.usage);
  };
  if (!(FORMATS as readonly string[]).includes(opts.format)) usage(`--format: expected one of ${FORMATS.join(', ')}, got "${opts.format}"`);
  if (opts.failOn !== 'none' && !(SEVERITIES as readonly string[]).includes(opts.failOn)) usage(`--fail-on: expected none or one of ${SEVERITIES.join(', ')}, got "${opts.failOn}"`);

  const docker = connectDocker(cfg.docker);
  try {
    await probeEngine(docker, cfg.docker.host);
  } catch (err) {
    process.stderr.write(`dockward scan: ${(err as Error).message}\n`);
    process.exit(SCAN_EXIT.engine);
  }
  await resolveHostIdentity(docker, cfg.host, undefined, (why) => process.stderr.write(`dockward scan: ${why}\n`));
  const names = opts.name.length ? anyGlob(opts.name) : undefined;
  const progress = process.stderr.isTTY;
  const report = await new PostureScanner(docker, cfg.collectors.posture).full({
    states: opts.all ? ['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'] : ['created', 'running', 'paused', 'restarting'],
    names,
    // On a terminal only, and only when it takes a while: CI logs stay clean.
    onProgress: (done, total) => {
      if (progress && total >= 10) process.stderr.write(`\rscanning containers: ${done}/${total}${done === total ? '\n' : ''}`);
    },
  });

  const format = opts.format as Format;
  const text =
    format === 'json' ? JSON.stringify(toJson(report), null, 2) + '\n'
      : format === 'sarif' ? JSON.stringify(toSarif(report), null, 2) + '\n'
        : toTable(report, { color: opts.color ?? (!!process.stdout.isTTY && !process.env.NO_COLOR && !opts.output), width: process.stdout.columns || 160, failedOnly: opts.failedOnly });
  if (opts.output) writeFileSync(opts.output, text);
  else process.stdout.write(text);

  if (opts.failOn !== 'none') {
    const bad = report.findings.filter((f) => f.evaluation === 'failed' && severityAtLeast(f.check.severity, opts.failOn as Severity));
    if (bad.length) {
      process.stderr.write(`dockward scan: ${bad.length} failed check(s) at or above ${opts.failOn}\n`);
      process.exitCode = SCAN_EXIT.findings;
    }
  }
}
