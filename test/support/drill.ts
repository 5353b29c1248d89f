import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { adminClient, engines, newNamespace, ROOT } from './engines';
import { engineLog, removeContainers, runContainer } from './containers';
import { DockwardProcess } from './dockward';
import { fetchAll, waitForCount } from './elasticsearch';

/**
 * A fault drill: a steady load of about 2,600 lines/s from four containers, dockward shipping it,
 * a fault while it runs, then an exact comparison of what the containers printed and what
 * Elasticsearch holds.
 */
export const CONTAINERS = 4;
export const RATE = 650; // lines/s per container: 50 lines, then 75 ms of sleep

export interface Drill {
  ns: string;
  index: string;
  ids: string[];
  /** The dockward process running now (a fault may have replaced it). */
  dockward(): DockwardProcess;
  /** Starts a new dockward on the same state, as after a crash. */
  restart(): DockwardProcess;
}

export function script(name: string, ...args: string[]): void {
  execFileSync(join(ROOT, 'scripts', name), args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function loadCommand(prefix: string, lines: number): string[] {
  return ['sh', '-c', `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "${prefix} $i"; [ $((i % 50)) = 0 ] && usleep 75000; done`];
}

/**
 * For a failed drill: where the missing lines are, container by container. Lines the engine holds
 * but dockward never read (cursor before the container's end), read but still queued or spooled,
 * or acknowledged and yet absent, each say where to look next.
 */
export async function whereAreTheLines(es: Client, index: string, ids: string[], dw: DockwardProcess, printed?: number): Promise<string> {
  const { docker } = engines();
  const out: string[] = [];
  let cursors: Record<string, { sec: number; nanos: number }> = {};
  try {
    cursors = JSON.parse(readFileSync(join(dw.stateDir, 'cursors.json'), 'utf8')).cursors ?? {};
  } catch (err) {
    out.push(`cursors.json unreadable: ${(err as Error).message}`);
  }
  for (const id of ids) {
    const info = await docker.getContainer(id).inspect().catch(() => undefined);
    const engineLines = await engineLog(docker, id).then((l) => l.length).catch((err: Error) => `? (${err.message})`);
    const stored = await es.count({ index, query: { term: { 'container.id': id } }, ignore_unavailable: true }).then((r) => r.count, () => '?');
    const c = cursors[`logs/${id}`];
    const cursorAt = c ? new Date(c.sec * 1000 + c.nanos / 1e6).toISOString() : 'none';
    out.push(`container ${id.slice(0, 12)}: printed ${printed ?? '?'}, engine holds ${engineLines}, Elasticsearch ${stored}; cursor ${cursorAt}, finished ${info?.State.FinishedAt ?? '?'} (running: ${info?.State.Running})`);
  }
  const m = await dw.metrics().catch(() => undefined);
  if (m) {
    const pick = (prefix: string) => Object.entries(m).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => `${k}=${v}`).join(' ');
    out.push(`last dockward: ${pick('dockward_documents_read_total')} ${pick('dockward_documents_total')} ${pick('dockward_queue_documents')} ${pick('dockward_followed_containers')} ${pick('dockward_log_lines_read_total')}`);
    out.push('read < engine: never read from the engine (the follow stream ended early?); queue > 0: read, not yet sent; documents_total{outcome=acked} ≥ read and Elasticsearch short: acknowledged but absent');
  } else out.push('last dockward: no metrics (not running?)');
  return out.join('\n');
}

/** The fault of the kill drills: SIGKILL and restart, ten times, 1–3.5 s apart. */
export async function killTenTimes(d: Drill): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2500));
    await d.dockward().kill('SIGKILL');
    d.restart();
  }
}

/** Processes and namespaces of every drill, for the suite's cleanup. */
export class Drills {
  private readonly procs: DockwardProcess[] = [];
  private readonly namespaces: string[] = [];

  /** A superuser client on the plain cluster. */
  readonly es: Client = adminClient();

  /** Kills every dockward, removes every drill's containers, closes the client. */
  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill()));
    for (const ns of this.namespaces) await removeContainers(engines().docker, ns);
    await this.es.close();
  }

  async run(name: string, seconds: number, sets: string[], fault: (d: Drill) => Promise<void>, target: Client = this.es): Promise<Record<string, number>> {
    const { docker } = engines();
    const ns = newNamespace(name);
    this.namespaces.push(ns);
    const lines = RATE * seconds;
    const started = await Promise.all(
      Array.from({ length: CONTAINERS }, (_, k) => runContainer(docker, { name: `${ns}-${k}`, cmd: loadCommand(`${name}${k}`, lines) })),
    );
    const expected = new Set<string>();
    for (let k = 0; k < CONTAINERS; k++) for (let i = 1; i <= lines; i++) expected.add(`${name}${k} ${i}`);
    const allSets = [...sets, 'collectors.events.enabled=false'];
    let current = DockwardProcess.run({ namespace: ns, sets: allSets });
    this.procs.push(current);
    const d: Drill = {
      ns,
      index: `logs-dockward.container-${ns}`,
      ids: started.map((c) => c.id),
      dockward: () => current,
      restart: () => {
        current = DockwardProcess.run({ namespace: ns, stateDir: current.stateDir, sets: allSets });
        this.procs.push(current);
        return current;
      },
    };
    // Each drill's processes and containers end with it: a dockward left running watches every
    // container of the host, and twenty of them made the next drills' starts time out.
    try {
      await current.waitFor(/dockward running/);
      await fault(d);
      for (const id of d.ids) {
        while ((await docker.getContainer(id).inspect().catch(() => ({ State: { Running: true } }))).State.Running) await new Promise((r) => setTimeout(r, 500));
      }
      const total = expected.size;
      const n = await waitForCount(target, d.index, total, 240_000, { terms: { 'container.id': d.ids } }, () => current.alive());
      if (n !== total) assert.fail(`${n} of ${total} lines in Elasticsearch.\n${await whereAreTheLines(target, d.index, d.ids, current, lines)}\n${current.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 1500)); // a wrongly re-sent line would show up now
      const metrics = await current.metrics().catch(() => ({}) as Record<string, number>);
      const docs = await fetchAll<{ message: string }>(target, d.index, { terms: { 'container.id': d.ids } });
      const seen = new Map<string, number>();
      for (const doc of docs) seen.set(doc.message, (seen.get(doc.message) ?? 0) + 1);
      const missing = [...expected].filter((m) => !seen.has(m)).length;
      const duplicated = [...seen.values()].reduce((a, c) => a + c - 1, 0);
      const unexpected = [...seen.keys()].filter((m) => !expected.has(m)).length;
      assert.deepEqual({ missing, duplicated, unexpected }, { missing: 0, duplicated: 0, unexpected: 0 });
      const retried = Object.entries(metrics).filter(([k]) => k.startsWith('dockward_documents_retried_total')).reduce((a, [, v]) => a + v, 0);
      console.log(`# ${name}: ${CONTAINERS} containers x ${lines} lines = ${total} printed, ${docs.length} in Elasticsearch, 0 missing, 0 duplicated; ` +
        `retried ${retried}, 409-duplicates ${metrics['dockward_documents_total{outcome=duplicate}'] ?? 0} (last process), spool peak ${Math.round((metrics.dockward_queue_peak_bytes ?? 0) / 1024)} KiB`);
      return metrics;
    } finally {
      await Promise.all(this.procs.map((p) => p.kill()));
      await removeContainers(docker, ns);
    }
  }
}
