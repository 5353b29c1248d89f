import assert from 'node:assert/strict';
import type { Client } from '@elastic/elasticsearch';
import type { TamperKind } from '../../src/collect/collector';
import { adminClient, engines, newNamespace } from './engines';
import { engineLog, removeContainers, runContainer, type RunOptions } from './containers';
import { DockwardProcess } from './dockward';
import { fetchAll, waitForCount } from './elasticsearch';
import { treeCpuSec, treeMemoryMb } from './proc-tree';

/**
 * One attack on dockward itself, run beside a canary container that prints a line a second: while
 * the attack runs, dockward's /health must answer within a second, the canary's lines keep
 * arriving, and dockward's memory stays bounded; afterwards the tamper alert is there and every
 * line the canary printed is in Elasticsearch exactly once.
 */
export interface AttackCase {
  name: string;
  attack: Omit<RunOptions, 'name'>;
  /** Extra `-E` settings for dockward. */
  sets?: string[];
  /** dockward's state_dir (default: a new temporary one). */
  stateDir?: string;
  /** The tamper rule expected on the attack container (dockward-tamper-<kind>). */
  tamper?: TamperKind;
  /** How long the attack runs, in seconds, before it is killed. */
  seconds: number;
  rssLimitMb: number;
  /** Largest lag of the canary's newest line in Elasticsearch, in seconds (default 5). */
  maxLagSec?: number;
  /** Slowest /health answer allowed, in ms (default 1000). */
  maxHealthMs?: number;
  /**
   * Start the attack container before dockward, and wait until this says it is armed (given its
   * init's host pid): for what dockward reads when it first meets a container.
   */
  armedBeforeDockward?: (pid: number) => boolean;
  /** Runs while the attack runs, with the attack container's id. */
  during?: (ctx: AttackContext) => Promise<void>;
  /** More checks after the attack, before the canary is stopped. */
  after?: (ctx: AttackContext) => Promise<void>;
}

export interface AttackContext {
  ns: string;
  attackId: string;
  dockward: DockwardProcess;
  es: Client;
}

export interface AttackFigures {
  worstLagSec: number;
  worstHealthMs: number;
  peakRssMb: number;
  cpuPct: number;
  canaryLines: number;
  tamperCount?: number;
}

const rssMb = (pid: number) => treeMemoryMb(pid);
const cpuSec = (pid: number) => treeCpuSec(pid);

async function until(what: string, ok: () => Promise<boolean>, ms: number, dw: DockwardProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    dw.alive();
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}; dockward's log:\n${dw.log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Newest canary line in Elasticsearch, as the canary's own counter (it prints one a second). */
async function newestCanary(es: Client, index: string, id: string): Promise<number> {
  await es.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const r = await es.search<{ message: string }>({ index, size: 1, sort: [{ '@timestamp': 'desc' }], query: { term: { 'container.id': id } }, ignore_unavailable: true });
  const m = /^canary (\d+)$/.exec(r.hits.hits[0]?._source?.message ?? '');
  return m ? Number(m[1]) : 0;
}

/** Where the memory is, from dockward's own gauges: a failed RSS bound says which part grew. */
async function memoryBreakdown(dw: DockwardProcess): Promise<string> {
  const m = await dw.metrics().catch(() => ({}) as Record<string, number>);
  const mb = (k: string) => (m[k] === undefined ? '?' : `${Math.round(m[k] / 1048576)}`);
  return `main RSS ${mb('process_resident_memory_bytes')} MB, heap ${mb('nodejs_heap_size_used_bytes')}/${mb('nodejs_heap_size_total_bytes')} MB, main external ${mb('nodejs_external_memory_bytes')} MB, ` +
    `kernel reader RSS ${mb('dockward_kernel_reader_heap_bytes{kind=rss}')} MB, heap ${mb('dockward_kernel_reader_heap_bytes{kind=used}')}/${mb('dockward_kernel_reader_heap_bytes{kind=total}')} MB, reader external ${mb('dockward_kernel_reader_heap_bytes{kind=external}')} MB`;
}

export async function runAttack(c: AttackCase): Promise<AttackFigures> {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('adv');
  const logs = `logs-dockward.container-${ns}`;
  let attackId = '';
  if (c.armedBeforeDockward) {
    attackId = (await runContainer(docker, { name: `${ns}-attack`, ...c.attack })).id;
    const pid = (await docker.getContainer(attackId).inspect()).State.Pid;
    const deadline = Date.now() + 30_000;
    while (!c.armedBeforeDockward(pid)) {
      if (Date.now() > deadline) assert.fail(`the attack container ${attackId.slice(0, 12)} never armed itself`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const dw = DockwardProcess.run({ namespace: ns, stateDir: c.stateDir, sets: ['collectors.events.enabled=true', ...(c.sets ?? [])] });
  try {
    const canary = (await runContainer(docker, { name: `${ns}-canary`, cmd: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "canary $i"; sleep 1; done'] })).id;
    const canaryStart = Date.now();
    await dw.waitFor(/dockward running/, 120_000);
    await until('the canary\'s first line in Elasticsearch', async () => (await newestCanary(es, logs, canary).catch(() => 0)) > 0, 60_000, dw);
    if (!attackId) attackId = (await runContainer(docker, { name: `${ns}-attack`, ...c.attack })).id;
    const ctx: AttackContext = { ns, attackId, dockward: dw, es };
    const figures: AttackFigures = { worstLagSec: 0, worstHealthMs: 0, peakRssMb: 0, cpuPct: 0, canaryLines: 0 };
    let atPeak = '';
    const cpu0 = cpuSec(dw.pid);
    const t0 = Date.now();
    const during = c.during?.(ctx);
    while (Date.now() - t0 < c.seconds * 1000) {
      dw.alive();
      const h0 = Date.now();
      await dw.health().catch((err: Error) => assert.fail(`/health did not answer: ${err.message}; dockward's log:\n${dw.log.slice(-2500)}`));
      figures.worstHealthMs = Math.max(figures.worstHealthMs, Date.now() - h0);
      const rss = rssMb(dw.pid);
      // DWTEST_TRACE_MEMORY=1: every sample's breakdown, to see when and where memory grows.
      if (process.env.DWTEST_TRACE_MEMORY) console.log(`# ${c.name} +${((Date.now() - t0) / 1000).toFixed(1)} s: RSS ${Math.round(rss)} MB (${await memoryBreakdown(dw)})`);
      if (rss > figures.peakRssMb) {
        figures.peakRssMb = rss;
        atPeak = await memoryBreakdown(dw);
      }
      // The canary prints line n at about canaryStart + n s: the lag is how far behind that the newest stored line is.
      const n = await newestCanary(es, logs, canary);
      figures.worstLagSec = Math.max(figures.worstLagSec, (Date.now() - canaryStart) / 1000 - n);
      await new Promise((r) => setTimeout(r, 500));
    }
    figures.cpuPct = Math.round(((cpuSec(dw.pid) - cpu0) / ((Date.now() - t0) / 1000)) * 100);
    await during;
    await docker.getContainer(attackId).kill().catch(() => undefined);
    if (c.tamper) {
      const rule = `dockward-tamper-${c.tamper}`;
      const alerts = `logs-dockward.alert-${ns}`;
      const query = { bool: { filter: [{ term: { 'rule.id': rule } }, { term: { 'container.id': attackId } }] } };
      await until(`the ${rule} alert on the attack container`, async () => (await es.count({ index: alerts, query, ignore_unavailable: true }).then((r) => r.count, () => 0)) > 0, 60_000, dw);
      figures.tamperCount = (await fetchAll<{ dockward: { alert: { count: number } } }>(es, alerts, query)).reduce((a, d) => Math.max(a, d.dockward.alert.count), 0);
    }
    await c.after?.(ctx);
    await docker.getContainer(canary).kill();
    const printed = await engineLog(docker, canary);
    const n = await waitForCount(es, logs, printed.length, 60_000, { term: { 'container.id': canary } }, () => dw.alive());
    const docs = await fetchAll<{ message: string }>(es, logs, { term: { 'container.id': canary } });
    const seen = new Map<string, number>();
    for (const d of docs) seen.set(d.message, (seen.get(d.message) ?? 0) + 1);
    const missing = printed.filter((l) => !seen.has(l)).length;
    const duplicated = [...seen.values()].reduce((a, k) => a + k - 1, 0);
    figures.canaryLines = printed.length;
    const restarts = (await dw.metrics())['dockward_kernel_reader_restarts_total'] ?? 0;
    console.log(
      `# adversarial ${c.name}: kernel reader restarts ${restarts}, canary worst lag ${figures.worstLagSec.toFixed(1)} s, /health worst ${figures.worstHealthMs} ms, ` +
        `dockward peak RSS ${Math.round(figures.peakRssMb)} MB (${atPeak}), CPU ${figures.cpuPct} % of a core over ${c.seconds} s` +
        `${c.tamper ? `, dockward-tamper-${c.tamper} alert (${figures.tamperCount} reports grouped)` : ''}; canary ${printed.length} lines, ${n} stored`,
    );
    assert.deepEqual({ missing, duplicated }, { missing: 0, duplicated: 0 }, 'every canary line exactly once');
    assert.ok(figures.worstHealthMs < (c.maxHealthMs ?? 1000), `/health answered within ${c.maxHealthMs ?? 1000} ms (worst ${figures.worstHealthMs} ms)`);
    assert.ok(figures.worstLagSec <= (c.maxLagSec ?? 5), `canary lag ≤ ${c.maxLagSec ?? 5} s (worst ${figures.worstLagSec.toFixed(1)} s)`);
    assert.ok(figures.peakRssMb < c.rssLimitMb, `dockward's RSS stayed under ${c.rssLimitMb} MB (peak ${Math.round(figures.peakRssMb)} MB; at the peak ${atPeak})`);
    return figures;
  } finally {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  }
}
