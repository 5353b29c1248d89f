import { readFileSync, readlinkSync } from 'node:fs';
import cron, { type ScheduledTask } from 'node-cron';
import { Counter, Gauge, Histogram } from 'prom-client';
import { z } from 'zod';
import { baseFields, containerFields } from '../enrich/ecs';
import { duration } from '../config/units';
import { streamName } from '../ship/envelope';
import type { Collector, CollectorContext } from './collector';
import { BurstWindow } from './connection-burst';
import { diffNamespace, newNamespace, type Fact, type Namespace } from './connection-diff';
import { ConnectionDocuments, DATASET } from './connection-documents';
import { bootTimeMs, cgroupProcsPath, connectionsBlocker, nsLink, procCgroupHas, socketCounts, socketOwners, type Owner } from './connection-procfs';
import { parseProcNet, type RawSocket, type Transport } from './proc-net';

export const connectionsConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** node-cron expression; six fields (with seconds) or five. One read of every network namespace per tick. */
    schedule: z
      .string()
      .refine((v) => cron.validate(v), 'not a valid cron expression (six fields with seconds, or five)')
      .default('*/5 * * * * *'),
    /** Per namespace and read: more opened/closed connections than this are summarised (one document per peer and port). */
    max_documents: z.number().int().min(10).default(200),
    /** New client connections (attempts included) from one namespace to this many distinct ports of one host within `burst_window`: a burst document. */
    burst_ports: z.number().int().min(2).default(10),
    /** The sliding window over which a burst's ports are counted (a scan paced across reads is still a scan); one burst per host per window. */
    burst_window: duration.prefault('60s'),
    /** Read udp and udp6 too. */
    udp: z.boolean().default(true),
  })
  .strict()
  .prefault({});
export type ConnectionsConfig = z.output<typeof connectionsConfig>;

/** The stream's dataset (logs-dockward.network-<ns>). */
export { DATASET };
const TABLES: Array<[string, Transport]> = [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']];

interface Target {
  id: string;
  pid: number;
  networkMode: string;
  /** cgroup.procs of the container, once found; null: none readable (fall back to a /proc scan). */
  procs?: string | null;
}

export interface ReadStats {
  namespaces: number;
  sockets: number;
  documents: number;
  ownerWalks: number;
  ms: number;
}

/**
 * Connections per container, from the host: each running container's socket tables
 * (/proc/<init pid>/net/{tcp,tcp6,udp,udp6}), read once per network namespace (containers sharing
 * one — `--network container:x`, pods — are read once) on a node-cron schedule, diffed against the
 * previous read. Documents: connection opened/closed, listener opened/closed, a burst of new
 * connections to many ports of one host, and summaries when a namespace changes by more than
 * `max_documents` connections in one read. The owning process is found by socket inode through
 * /proc/<pid>/fd of the namespace's processes, walked only when a read has new sockets.
 * See docs/network.md.
 */
export class ConnectionsCollector implements Collector {
  readonly name = 'connections';
  private readonly index: string;
  private readonly base: Record<string, unknown>;
  private readonly bootMs = bootTimeMs();
  /** The host's network namespace (`--network host` containers): init's, or dockward's own when init's is not readable. */
  private readonly hostNet = nsLink(1) ?? nsLink('self');
  private readonly namespaces = new Map<string, Namespace>();
  private readonly targets = new Map<string, Target>();
  private readonly hostNetworkSaid = new Set<string>();
  private task: ScheduledTask | undefined;
  private running = false;
  private unavailableSaid = false;
  private readonly m: ReturnType<typeof metrics>;
  private readonly docs: ConnectionDocuments;
  /** Figures of the last tick (bench, tests). */
  last: ReadStats | undefined;

  constructor(private readonly ctx: CollectorContext, private readonly cfg: ConnectionsConfig) {
    this.index = streamName('logs', DATASET, ctx.namespace);
    this.base = baseFields('logs', DATASET, ctx.namespace);
    this.m = metrics(ctx);
    this.docs = new ConnectionDocuments(this.bootMs, cfg, (env, container, action) => this.send(env, container, action));
  }


  async start(): Promise<void> {
    const why = connectionsBlocker();
    if (why) return this.unavailable(why);
    this.running = true;
    this.m.available.set(1);
    this.task = cron.schedule(this.cfg.schedule, () => this.tick(), { noOverlap: true, name: 'dockward-connections' });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.task?.stop();
  }

  private unavailable(reason: string): void {
    this.running = false;
    this.m.available.set(0);
    if (this.unavailableSaid) return;
    this.unavailableSaid = true;
    this.ctx.telemetry.event('connections.unavailable', 'warn', `connections off: ${reason}; no network documents`);
  }

  /** One read of every running container's namespace (the schedule's tick; also used by the bench). */
  async tick(): Promise<ReadStats | undefined> {
    if (!this.running) return undefined;
    let list;
    try {
      list = await this.ctx.docker.listContainers({ filters: { status: ['running'] } });
    } catch (err) {
      this.ctx.telemetry.event('connections.list.failed', 'warn', `connections: cannot list containers: ${(err as Error).message}`);
      return undefined;
    }
    const t0 = process.hrtime.bigint();
    const running = new Set(list.map((c) => c.Id));
    for (const id of this.targets.keys()) if (!running.has(id)) this.targets.delete(id);
    // Group by network namespace.
    const groups = new Map<string, Target[]>();
    for (const c of list) {
      const target = await this.target(c.Id);
      if (!target || !this.running) continue;
      const ns = nsLink(target.pid);
      if (!ns) continue; // stopped between the list and now
      if (ns === this.hostNet) {
        this.hostNetwork(target);
        continue;
      }
      const g = groups.get(ns);
      if (g) g.push(target);
      else groups.set(ns, [target]);
    }
    const stats: ReadStats = { namespaces: 0, sockets: 0, documents: 0, ownerWalks: 0, ms: 0 };
    for (const [ns, targets] of groups) {
      if (!this.running) break;
      await this.readNamespace(ns, targets, stats);
    }
    // A namespace no running container has any more: its sockets are gone with it.
    for (const [key, ns] of this.namespaces) {
      if (groups.has(key)) continue;
      this.namespaces.delete(key);
      stats.documents += await this.namespaceGone(ns);
    }
    stats.ms = Number(process.hrtime.bigint() - t0) / 1e6;
    this.m.readSeconds.observe(stats.ms / 1000);
    this.m.namespaces.set(stats.namespaces);
    this.last = stats;
    return stats;
  }

  /** Init pid and network mode, from one inspect, kept while /proc still shows that pid in the container's cgroup. */
  private async target(id: string): Promise<Target | undefined> {
    const known = this.targets.get(id);
    if (known && procCgroupHas(known.pid, id)) return known;
    let info;
    try {
      info = await this.ctx.docker.getContainer(id).inspect();
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) this.ctx.telemetry.event('connections.inspect.failed', 'debug', `connections: inspect ${id.slice(0, 12)}: ${(err as Error).message}`);
      return undefined;
    }
    const pid = info.State?.Pid ?? 0;
    if (!info.State?.Running || pid <= 0) return undefined;
    try {
      readlinkSync(`/proc/${pid}/ns/net`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // Exited meanwhile, or this /proc is another PID namespace's: the engine still says it runs as that pid.
        const again = await this.ctx.docker.getContainer(id).inspect().catch(() => undefined);
        if (again?.State?.Running && again.State.Pid === pid && !procCgroupHas(pid, id)) {
          this.unavailable(`container ${info.Name.replace(/^\//, '')}'s pid ${pid} is not in this /proc (dockward is not in the host PID namespace: run it with --pid host)`);
        }
        return undefined;
      }
      if (code === 'EACCES' || code === 'EPERM') {
        this.unavailable(`cannot read /proc/${pid}/ns/net (${code}): connections need root on the host`);
        return undefined;
      }
      return undefined; // exited meanwhile
    }
    const t: Target = { id, pid, networkMode: info.HostConfig?.NetworkMode ?? '' };
    this.targets.set(id, t);
    return t;
  }

  private hostNetwork(t: Target): void {
    if (this.hostNetworkSaid.has(t.id)) return;
    this.hostNetworkSaid.add(t.id);
    if (this.hostNetworkSaid.size > 10_000) this.hostNetworkSaid.clear();
    this.ctx.telemetry.event('connections.host_network', 'info', `connections: container ${t.id.slice(0, 12)} uses the host's network namespace: its sockets are the host's and are not read`, { container: { id: t.id } });
  }


  private async readNamespace(key: string, targets: Target[], stats: ReadStats): Promise<void> {
    // The container that owns the namespace first (not one that joined it with container:<x>).
    targets.sort((a, b) => Number(a.networkMode.startsWith('container:')) - Number(b.networkMode.startsWith('container:')) || a.id.localeCompare(b.id));
    const sockets = this.readTables(targets);
    if (!sockets) return; // every process of the namespace exited mid-read
    stats.namespaces++;
    stats.sockets += sockets.length;
    const now = Date.now();
    let ns = this.namespaces.get(key);
    const baseline = ns === undefined;
    if (!ns) this.namespaces.set(key, (ns = newNamespace(key, new BurstWindow(this.cfg.burst_window, this.cfg.burst_ports))));
    ns.containers = targets.map((t) => t.id);
    ns.reads++;
    const diff = diffNamespace(ns, sockets, targets[0].id, now, baseline, (wanted) => this.owners(targets, key, wanted));
    if (diff.ownerWalk) stats.ownerWalks++;

    let docs = 0;
    for (const l of diff.listeners) docs += this.docs.listenerDoc(ns, l.t, l.action, now, l.baseline, l.first);
    docs += this.connectionDocs(ns, diff.facts, now, baseline);
    if (!baseline) docs += this.docs.bursts(ns, ns.bursts.add(diff.facts, now), now);
    this.m.burstOverflow.inc(ns.bursts.takeOverflow());
    stats.documents += docs;
    this.m.sockets.observe(sockets.length);
  }

  /** Connections: one document each, or summaries past max_documents. */
  private connectionDocs(ns: Namespace, facts: Fact[], now: number, baseline: boolean): number {
    if (facts.length <= this.cfg.max_documents) {
      let docs = 0;
      for (const f of facts) docs += this.docs.connectionDoc(ns, f, now, baseline);
      return docs;
    }
    this.m.summarised.inc(facts.length);
    return this.docs.summaries(ns, facts, now, baseline);
  }


  /**
   * The four tables through the first process of the namespace that is still there. Reading a TCP
   * table walks the kernel's whole established hash (every namespace's sockets; ~4 ms on a host with
   * a large hash, whatever the namespace holds): the namespace's own counters (sockstat, sockstat6)
   * say first whether a table has anything, and an empty one is not read.
   */
  private readTables(targets: Target[]): RawSocket[] | undefined {
    for (const t of targets) {
      const used = socketCounts(t.pid);
      const out: RawSocket[] = [];
      let ok = false;
      for (const [file, transport] of TABLES) {
        if (transport === 'udp' && !this.cfg.udp) continue;
        if (used && !used[file]) {
          this.m.skipped.inc();
          continue;
        }
        let text: string;
        try {
          text = readFileSync(`/proc/${t.pid}/net/${file}`, 'latin1');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' && file.endsWith('6')) continue; // no IPv6 in this kernel
          ok = false;
          break;
        }
        ok = true;
        for (const s of parseProcNet(text, transport)) out.push(s);
      }
      if (ok || (used && nsLink(t.pid))) return out;
    }
    return undefined;
  }

  private owners(targets: Target[], nsKey: string, wanted: Set<number>): Map<number, Owner[]> {
    return socketOwners(targets.map((t) => ({ id: t.id, pids: this.pidsOf(t) })), nsKey, wanted, this.bootMs);
  }

  /** The container's processes from its cgroup (v1 pids/memory/…, v2), path found once. */
  private pidsOf(t: Target): number[] | undefined {
    if (t.procs === undefined) t.procs = cgroupProcsPath(t.pid) ?? null;
    if (t.procs === null) return undefined;
    try {
      return readFileSync(t.procs, 'latin1').split('\n').filter(Boolean).map(Number);
    } catch {
      t.procs = undefined; // moved or gone: look again next time
      return undefined;
    }
  }

  private async namespaceGone(ns: Namespace): Promise<number> {
    const now = Date.now();
    let docs = 0;
    const facts: Fact[] = [...ns.conns.values()].map((t) => ({ action: 'connection_closed' as const, t, reason: 'network namespace gone (container stopped)' }));
    docs += this.connectionDocs(ns, facts, now, false);
    for (const t of ns.listeners.values()) docs += this.docs.listenerDoc(ns, t, 'listener_closed', now, false, false, 'network namespace gone (container stopped)');
    return docs;
  }

  private async containerOf(id: string): Promise<Record<string, unknown> | undefined> {
    try {
      const meta = await this.ctx.metadata.get(id);
      return meta ? containerFields(meta) : { id };
    } catch {
      return { id };
    }
  }

  private send(env: { id: string; doc: Record<string, unknown> }, containerId: string, action: string): void {
    this.m.documents.inc({ action });
    // Container fields come from the shared metadata cache: usually already there, so the order of a read's documents holds.
    void this.containerOf(containerId).then((container) => {
      this.ctx.output.send({ index: this.index, id: env.id, doc: { ...env.doc, container, ...this.base } });
    });
  }
}

/** `dockward check`'s line about this collector. */
export function connectionsCheckLine(cfg: ConnectionsConfig): string {
  if (!cfg.enabled) return 'connections disabled (collectors.connections.enabled: false)';
  const why = connectionsBlocker();
  return why ? `connections off: ${why}; no network documents` : 'connections ok (host /proc socket tables readable)';
}

function metrics(ctx: CollectorContext) {
  const r = [ctx.telemetry.registry];
  const get = <T>(name: string, make: () => T): T => (ctx.telemetry.registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    documents: get('dockward_connections_documents_total', () => new Counter({ name: 'dockward_connections_documents_total', help: 'Network documents sent', labelNames: ['action'], registers: r })),
    summarised: get('dockward_connections_summarised_total', () => new Counter({ name: 'dockward_connections_summarised_total', help: 'Connection facts folded into summary documents', registers: r })),
    readSeconds: get('dockward_connections_read_seconds', () => new Histogram({ name: 'dockward_connections_read_seconds', help: 'One read of every namespace (after the container list)', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: r })),
    sockets: get('dockward_connections_sockets', () => new Histogram({ name: 'dockward_connections_sockets', help: 'Sockets in one namespace read', buckets: [1, 10, 100, 1000, 10000, 100000], registers: r })),
    namespaces: get('dockward_connections_namespaces', () => new Gauge({ name: 'dockward_connections_namespaces', help: 'Network namespaces read in the last tick', registers: r })),
    skipped: get('dockward_connections_tables_skipped_total', () => new Counter({ name: 'dockward_connections_tables_skipped_total', help: 'Socket tables not read because the namespace counters said they were empty', registers: r })),
    burstOverflow: get('dockward_connections_burst_overflow_total', () => new Counter({ name: 'dockward_connections_burst_overflow_total', help: 'New connections left out of burst counting by its bounds (hosts per namespace, ports per host)', registers: r })),
    available: get('dockward_connections_available', () => new Gauge({ name: 'dockward_connections_available', help: '1 when the connections collector reads socket tables', registers: r })),
  };
}
