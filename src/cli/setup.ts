import { createClient, probeCluster } from '../ship/client';
import { SETUP_STEPS, runSetup } from '../setup/steps';
import { loadOrExit, telemetryFor, type GlobalOptions } from './common';

export interface SetupOptions extends GlobalOptions {
  print?: boolean;
  /** ilm or dsl: overrides setup.retention.mode. */
  retention?: string;
  [step: string]: unknown;
}

/** `dockward setup [--<step> …] [--print]`: no step flag means every step. */
export async function setupCommand(opts: SetupOptions): Promise<void> {
  const chosen = SETUP_STEPS.filter((s) => opts[camel(s.name)] === true).map((s) => s.name);
  if (opts.print) {
    const out = Object.fromEntries(SETUP_STEPS.filter((s) => chosen.length === 0 || chosen.includes(s.name)).map((s) => [s.name, s.render()]));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const cfg = loadOrExit(opts);
  if (opts.retention !== undefined && opts.retention !== 'ilm' && opts.retention !== 'dsl') throw new Error(`--retention takes ilm or dsl, not ${opts.retention}`);
  const retention = { ...cfg.setup.retention, ...(opts.retention ? { mode: opts.retention as 'ilm' | 'dsl' } : {}) };
  // Results go to stdout below; the log only needs what went wrong.
  const telemetry = telemetryFor({ ...cfg, logging: { ...cfg.logging, level: 'warn' } });
  const client = createClient(cfg.elasticsearch);
  try {
    const cluster = await probeCluster(client);
    process.stdout.write(`Elasticsearch ${cluster.version} (${cluster.license ? `${cluster.license.type} licence` : 'no licence API'})\n`);
    const options = { kibana: cfg.setup.kibana, retention, watchers: cfg.setup.watchers };
    const results = await runSetup({ client, cluster, telemetry, options }, chosen);
    for (const r of results) process.stdout.write(`${r.status.padEnd(9)} ${r.target}: ${r.message}\n`);
    process.stdout.write(`${summary(results)}\n`);
    if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
  } finally {
    await client.close();
  }
}

export function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** One closing line: how many of each outcome, and the skip reasons once each. */
export function summary(results: Array<{ status: string; step: string; message: string }>): string {
  const counts = ['created', 'updated', 'unchanged', 'skipped', 'failed'].map((s) => `${results.filter((r) => r.status === s).length} ${s}`);
  // The reasons are on the skipped lines above; here only which steps they were.
  const skips = [...new Set(results.filter((r) => r.status === 'skipped').map((r) => r.step))];
  return `summary: ${counts.join(', ')}${skips.length ? ` (skipped: ${skips.join(', ')})` : ''}`;
}
