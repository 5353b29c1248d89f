/**
 * `npm run demo` (scripts/demo.sh installs and starts the engines, then runs this): dockward with
 * its default rules against a local engine and Elasticsearch, a benign web server and worker, an
 * attacked container, a misconfigured one, a webhook receiver and response in dry-run mode. It
 * prints alerts, notifications and response decisions as they happen, then a summary.
 *   DEMO_SECONDS=90 npm run demo
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import Docker from 'dockerode';
import { printSummary, parseMetrics } from './summary';
import { AlertWatch } from './watch';
import { WebhookReceiver } from './webhook';
import { removeDemoContainers, startContainer, workload } from './workload';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run the demo with npm run demo (scripts/demo.sh sets it)`);
  return v;
};

async function main(): Promise<void> {
  const seconds = Number(process.env.DEMO_SECONDS ?? 75);
  // Both settable so a test can run the demo beside another run of it.
  const NS = process.env.DEMO_NAMESPACE ?? 'demo';
  const port = await freePort();
  const esUrl = env('DWTEST_ES_URL');
  const socket = env('DOCKER_HOST').replace(/^unix:\/\//, '');
  const stateDir = join(env('DOCKWARD_CACHE'), `${process.env.DEMO_NAMESPACE ?? 'demo'}-state`);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const docker = new Docker({ socketPath: socket });
  const es = new Client({ node: esUrl });
  const hook = new WebhookReceiver();
  const hookUrl = await hook.start();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const configFile = join(stateDir, 'dockward.yml');
  writeFileSync(configFile, demoConfig(NS, esUrl, stateDir, hookUrl, port), { mode: 0o600 });

  const containers = workload(NS, 'dockward/busybox:1', 'dockward/lab:1', socket);
  await removeDemoContainers(docker, NS);
  out('== the demo ==');
  for (const c of containers) out(`  ${c.name.padEnd(20)} ${c.what}${c.at ? ` (starts ${c.at} s after dockward)` : ''}`);
  out(`  webhook receiver     ${hookUrl} (dockward notifies it)`);
  out(`  response             dry run: a miner found by its process or network evidence would be paused`);
  for (const c of containers.filter((x) => x.at === 0)) await startContainer(docker, c);

  const cli = join(__dirname, '..', 'src', 'cli', 'main.js');
  const dwArgs = ['--config', configFile];
  await run(process.execPath, [cli, 'setup', '--index-management', ...dwArgs]);
  out('');
  out(`== dockward run, ${seconds} s: alerts, notifications and responses as they happen ==`);
  const dw = spawn(process.execPath, [cli, 'run', ...dwArgs, '--stop-after', `${seconds}s`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let dwLog = '';
  dw.stderr.on('data', (c: Buffer) => (dwLog = (dwLog + c.toString()).slice(-20_000)));
  const exited = new Promise<number>((resolve) => dw.on('exit', (code) => resolve(code ?? 1)));
  await until(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok === true, 60_000, 'dockward /health', () => dwLog);
  const t0 = Date.now();
  const later = containers.filter((x) => x.at > 0).map((c) => new Promise<void>((r) => setTimeout(() => void startContainer(docker, c).then(() => r(), () => r()), c.at * 1000)));

  const watch = new AlertWatch(es, NS, `${NS}-`, out);
  const ours = () => hook.received.filter((m) => m.container.startsWith(`${NS}-`) || m.container === 'the host');
  let printedHooks = 0;
  let metrics: Map<string, number> | undefined;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    await watch.poll();
    for (const m of ours().slice(printedHooks)) out(`  WEBHOOK ${m.kind}${m.count > 1 ? ` ×${m.count}` : ''}: ${m.rule} on ${m.container}`);
    printedHooks = ours().length;
    // The last metrics before dockward stops: its delivery outcomes for the summary.
    if (Date.now() - t0 > (seconds - 3) * 1000 && !metrics) metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then(async (r) => parseMetrics(await r.text()), () => undefined);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const code = await exited;
  await Promise.all(later);
  await watch.poll();
  for (const m of ours().slice(printedHooks)) out(`  WEBHOOK ${m.kind}${m.count > 1 ? ` ×${m.count}` : ''}: ${m.rule} on ${m.container}`);
  if (!watch.alerts.length) out('  no alert yet');
  out('');
  out(`== webhook: ${ours().length} messages ==`);
  const grouped = new Map<string, number>();
  for (const m of ours()) grouped.set(`${m.rule} on ${m.container}`, (grouped.get(`${m.rule} on ${m.container}`) ?? 0) + m.count);
  if (!grouped.size) out('  none yet');
  for (const [k, n] of grouped) out(`  ${k}: ${n} alert${n === 1 ? '' : 's'}`);
  await printSummary(es, NS, `${NS}-`, watch.alerts, metrics, out);
  await removeDemoContainers(docker, NS);
  await hook.close();
  await es.close();
  out('');
  out('Look for yourself:');
  out(`  curl -s '${esUrl}/logs-dockward.alert-${NS}/_search?size=5&pretty'`);
  out(`  with Kibana: docker compose up (deploy/), then the dashboards "dockward: alert triage", "dockward: containers" and "dockward: posture"`);
  out('Stop the engines: scripts/elasticsearch.sh stop plain; scripts/dockerd.sh stop');
  if (code !== 0) throw new Error(`dockward exited with ${code}:\n${dwLog.slice(-3000)}`);
}

/** Default rules; only what the demo needs is set: where to ship, whom to notify, respond in dry run. */
function demoConfig(NS: string, esUrl: string, stateDir: string, hookUrl: string, port: number): string {
  return [
    `namespace: ${NS}`,
    `state_dir: ${JSON.stringify(stateDir)}`,
    `elasticsearch: { hosts: [${JSON.stringify(esUrl)}] }`,
    `http: { port: ${port} }`,
    `collectors:`,
    `  logs: { include_names: ["${NS}-*"] }`,
    `  stats: { schedule: "*/2 * * * * *" }`,
    `notify:`,
    `  destinations: { demo-hook: { type: webhook, url: ${JSON.stringify(hookUrl)} } }`,
    `  routes: { all: { destinations: [demo-hook], match: { min_severity: medium }, group_window: 5s } }`,
    `respond:`,
    `  enabled: true`,
    `  mode: dry_run`,
    `  policies: [{ rules: ["dockward-miner-*"], action: pause }, { min_severity: critical, tags: [reverse-shell], action: disconnect }]`,
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.slice(0, 2).join(' ')} exited with ${code}: ${err.slice(-2000)}`))));
  });
}

async function until(ok: () => Promise<boolean>, ms: number, what: string, log: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready within ${ms / 1000} s:\n${log().slice(-3000)}`);
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exitCode = 1;
});
