import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import cron, { type ScheduledTask } from 'node-cron';
import { Counter, Gauge, Histogram } from 'prom-client';
import { z } from 'zod';
import { baseFields, containerFields } from '../enrich/ecs';
import { deterministicId, streamName } from '../ship/envelope';
import type { Collector, CollectorContext } from './collector';
import { decodeEndpoint, isLoopback, isUnspecified, parseProcNet, TCP_STATES, type RawSocket, type Transport } from './proc-net';

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
    /** New client connections (attempts included) from one namespace to this many ports of one host in one read: a burst document. */
    burst_ports: z.number().int().min(2).default(10),
    /** Read udp and udp6 too. */
    udp: z.boolean().default(true),
  })
  .strict()
  .prefault({});
export type ConnectionsConfig = z.output<typeof connectionsConfig>;

export const DATASET = 'dockward.network';
const TABLES: Array<[string, Transport]> = [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']];
/** TIME_WAIT and CLOSE: the connection is over (CLOSE is also an unconnected UDP socket, see isListener). */
const DEAD = new Set(['06', '07']);
const TIME_WAIT_MS = 60_000; // TCP_TIMEWAIT_LEN
const MAX_OWNERS = 8;
/** Linux's default ip_local_port_range starts here. */
const EPHEMERAL_LOW = 32768;

export interface Owner {
  pid: number;
  name: string;
  executable?: string;
  args?: string[];
  command_line?: string;
  start?: string;
  ppid?: number;
  parentName?: string;
  uid?: number;
  /** The container whose cgroup holds the process, when known. */
  container?: string;
}

type Side = 'client' | 'server' | 'listener';

/** A socket dockward reported open (a connection or a listener), remembered to report its end. */
interface Tracked {
  sock: RawSocket;
  side: Side;
  direction?: 'inbound' | 'outbound' | 'internal';
  owners: Owner[];
  container: string;
  opened: number;
}

interface Namespace {
  inode: string;
  containers: string[];
  reads: number;
  conns: Map<string, Tracked>;
  listeners: Map<string, Tracked>;
  /** TIME_WAIT/CLOSE keys of the previous read: reported once. */
  dead: Set<string>;
  /** Live sockets no process holds yet (accept queue): reported when held, or on the next read. */
  pending: Set<string>;
  everListened: boolean;
  /** `transport:port` → local ips of every listener seen (a listener may close once it accepted: busybox nc -l). */
  listenedPorts: Map<string, string[]>;
}

interface Target {
  id: string;
  pid: number;
  networkMode: string;
  /** cgroup.procs of the container, once found; null: none readable (fall back to a /proc scan). */
  procs?: string | null;
}

/** One opened/closed fact of a read, before it becomes a document (or part of a summary). */
interface Fact {
  action: 'connection_opened' | 'connection_closed';
  t: Tracked;
  /** For a connection seen only in TIME_WAIT: when it closed (timer), for its id and timestamp. */
  closedAt?: number;
  short?: boolean;
  reason?: string;
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
  /** Figures of the last tick (bench, tests). */
  last: ReadStats | undefined;

  constructor(private readonly ctx: CollectorContext, private readonly cfg: ConnectionsConfig) {
    this.index = streamName('logs', DATASET, ctx.namespace);
    this.base = baseFields('logs', DATASET, ctx.namespace);
    this.m = metrics(ctx);
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
    if (!ns) {
      ns = { inode: key.replace(/\D/g, ''), containers: [], reads: 0, conns: new Map(), listeners: new Map(), dead: new Set(), pending: new Set(), everListened: false, listenedPorts: new Map() };
      this.namespaces.set(key, ns);
    }
    ns.containers = targets.map((t) => t.id);
    ns.reads++;
    const primary = targets[0].id;

    // Listeners first: they decide which side of a connection this namespace is.
    const listenNow = new Map<string, RawSocket>();
    const localIps = new Set<string>();
    const connNow = new Map<string, RawSocket>();
    const deadNow = new Map<string, RawSocket>();
    for (const s of sockets) {
      if (isListener(s)) {
        listenNow.set(s.key, s);
        const e = decodeEndpoint(s.local);
        const k = `${s.transport}:${e.port}`;
        const ever = ns.listenedPorts.get(k);
        if (!ever) {
          if (ns.listenedPorts.size >= 4096) ns.listenedPorts.delete(ns.listenedPorts.keys().next().value as string);
          ns.listenedPorts.set(k, [e.ip]);
        } else if (!ever.includes(e.ip)) ever.push(e.ip);
      } else if (s.transport === 'udp' && s.st !== '01') {
        continue; // an unconnected UDP socket without a port of its own
      } else if (DEAD.has(s.st)) deadNow.set(s.key, s);
      else connNow.set(s.key, s);
    }

    // What is new: listeners, connections (held by a process, or seen twice without one), TIME_WAIT never seen live.
    const newListeners: RawSocket[] = [];
    for (const [k, s] of listenNow) {
      const before = ns.listeners.get(k);
      if (!before || before.sock.inode !== s.inode) newListeners.push(s);
    }
    const newConns: RawSocket[] = [];
    const facts: Fact[] = [];
    for (const [k, s] of connNow) {
      const before = ns.conns.get(k);
      if (before) {
        if (before.sock.inode === s.inode || s.inode === 0 || before.sock.inode === 0) {
          if (before.sock.inode === 0 && s.inode !== 0) newConns.push(s); // accepted at last: learn its owner
          before.sock = { ...s, inode: s.inode || before.sock.inode };
          continue;
        }
        facts.push({ action: 'connection_closed', t: before }); // the same four-tuple, another socket
        ns.conns.delete(k);
      }
      if (s.inode === 0 && !ns.pending.has(k) && !baseline) {
        ns.pending.add(k);
        continue;
      }
      newConns.push(s);
    }
    for (const k of ns.pending) if (!connNow.has(k) || ns.conns.has(k)) ns.pending.delete(k);

    // Owners of the new sockets: one walk of the namespace's processes' fds.
    const wanted = new Set<number>();
    for (const s of newListeners) if (s.inode) wanted.add(s.inode);
    for (const s of newConns) if (s.inode) wanted.add(s.inode);
    const owners = wanted.size > 0 ? this.owners(targets, key, wanted) : new Map<number, Owner[]>();
    if (wanted.size > 0) stats.ownerWalks++;

    // Server side: the local port is (or was) a listener's. A listener never seen (opened and closed
    // between reads): a local port below the ephemeral range facing one inside it.
    const sideOf = (s: RawSocket): Side => {
      const e = decodeEndpoint(s.local);
      const ips = ns.listenedPorts.get(`${s.transport}:${e.port}`);
      if (ips) return ips.some((ip) => isUnspecified(ip) || ip === e.ip) ? 'server' : 'client';
      return e.port < EPHEMERAL_LOW && decodeEndpoint(s.remote).port >= EPHEMERAL_LOW ? 'server' : 'client';
    };
    for (const s of sockets) {
      const ip = decodeEndpoint(s.local).ip;
      if (!isUnspecified(ip)) localIps.add(ip);
    }
    const directionOf = (s: RawSocket, side: Side): Tracked['direction'] => {
      const r = decodeEndpoint(s.remote).ip;
      if (isLoopback(r) || localIps.has(r)) return 'internal';
      return side === 'server' ? 'inbound' : 'outbound';
    };
    const track = (s: RawSocket, side: Side): Tracked => {
      const o = s.inode ? owners.get(s.inode) ?? [] : [];
      return { sock: s, side, direction: side === 'listener' ? undefined : directionOf(s, side), owners: o, container: o[0]?.container ?? primary, opened: now };
    };

    for (const s of newConns) {
      const before = ns.conns.get(s.key);
      if (before) {
        // A held socket we knew only from the accept queue: now we know who holds it.
        const o = owners.get(s.inode) ?? [];
        before.owners = o;
        if (o[0]?.container) before.container = o[0].container;
        continue;
      }
      const t = track(s, sideOf(s));
      ns.conns.set(s.key, t);
      facts.push({ action: 'connection_opened', t });
    }
    for (const [k, t] of ns.conns) {
      if (connNow.has(k)) continue;
      ns.conns.delete(k);
      const dead = deadNow.get(k);
      facts.push({ action: 'connection_closed', t: dead ? { ...t, sock: { ...t.sock, st: dead.st } } : t });
    }
    if (!baseline) {
      const reported = new Set(facts.map((f) => f.t.sock.key));
      for (const [k, s] of deadNow) {
        if (ns.dead.has(k) || reported.has(k)) continue;
        // Opened and closed between two reads: only its TIME_WAIT is left (no process holds it).
        const closedAt = s.timerMs !== undefined ? now + s.timerMs - TIME_WAIT_MS : now;
        facts.push({ action: 'connection_closed', t: track(s, sideOf(s)), closedAt, short: true });
      }
    }
    ns.dead = new Set(deadNow.keys());

    let docs = 0;
    // Listeners.
    const hadListener = ns.everListened;
    for (const s of newListeners) {
      const before = ns.listeners.get(s.key);
      if (before) docs += this.listenerDoc(ns, before, 'listener_closed', now, false);
      const t = track(s, 'listener');
      ns.listeners.set(s.key, t);
      docs += this.listenerDoc(ns, t, 'listener_opened', now, baseline, !baseline && !hadListener);
    }
    for (const [k, t] of ns.listeners) {
      if (listenNow.has(k)) continue;
      ns.listeners.delete(k);
      docs += this.listenerDoc(ns, t, 'listener_closed', now, false);
    }
    if (ns.listeners.size > 0) ns.everListened = true;

    // Connections: one document each, or summaries past max_documents.
    if (facts.length <= this.cfg.max_documents) for (const f of facts) docs += this.connectionDoc(ns, f, now, baseline);
    else docs += this.summaries(ns, facts, now, baseline);
    if (!baseline) docs += this.bursts(ns, facts, now);
    stats.documents += docs;
    this.m.sockets.observe(sockets.length);
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

  /**
   * socket inode → the processes holding it: the fds of every process in the namespace's containers
   * (cgroup.procs; a /proc scan by namespace when no cgroup file is readable). A process that exits
   * mid-walk is skipped.
   */
  private owners(targets: Target[], nsKey: string, wanted: Set<number>): Map<number, Owner[]> {
    const found = new Map<number, Owner[]>();
    const info = new Map<number, Owner | null>();
    const visit = (pid: number, container: string | undefined) => {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        return;
      }
      for (const fd of fds) {
        let l: string;
        try {
          l = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (!l.startsWith('socket:[')) continue;
        const inode = Number(l.slice(8, -1));
        if (!wanted.has(inode)) continue;
        let o = info.get(pid);
        if (o === undefined) {
          o = readOwner(pid, container, this.bootMs) ?? null;
          info.set(pid, o);
        }
        if (!o) return;
        const list = found.get(inode);
        if (!list) found.set(inode, [o]);
        else if (list.length < MAX_OWNERS && !list.includes(o)) list.push(o);
      }
    };
    const seen = new Set<number>();
    let scanned = false;
    for (const t of targets) {
      const pids = this.pidsOf(t);
      if (!pids) {
        if (!scanned) {
          scanned = true;
          for (const pid of pidsInNamespace(nsKey)) {
            if (seen.has(pid)) continue;
            seen.add(pid);
            visit(pid, undefined);
          }
        }
        continue;
      }
      for (const pid of pids) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        visit(pid, t.id);
      }
    }
    // Lowest pid first: usually the process that opened the socket, before children inherited it.
    for (const list of found.values()) list.sort((a, b) => a.pid - b.pid);
    return found;
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
    if (facts.length <= this.cfg.max_documents) for (const f of facts) docs += this.connectionDoc(ns, f, now, false);
    else docs += this.summaries(ns, facts, now, false);
    for (const t of ns.listeners.values()) docs += this.listenerDoc(ns, t, 'listener_closed', now, false, false, 'network namespace gone (container stopped)');
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

  private listenerDoc(ns: Namespace, t: Tracked, action: 'listener_opened' | 'listener_closed', now: number, baseline: boolean, first = false, reason?: string): number {
    const s = t.sock;
    const local = decodeEndpoint(s.local);
    const p = t.owners[0];
    const opened = action === 'listener_opened';
    this.send({
      id: deterministicId(this.bootMs ?? 0, ns.inode, s.key, s.inode, action),
      doc: {
        '@timestamp': new Date(now).toISOString(),
        message: `${s.transport} listener ${opened ? 'opened' : 'closed'} on ${endpointText(local)}${p ? ` by ${p.name}[${p.pid}]` : ''}`,
        event: { kind: 'event', category: ['network'], type: opened ? ['start'] : ['end'], action, dataset: DATASET, module: 'dockward', created: new Date().toISOString(), ...(reason ? { reason } : {}) },
        destination: { ip: local.ip, port: local.port },
        network: { transport: s.transport, type: local.ip.includes(':') ? 'ipv6' : 'ipv4', iana_number: s.transport === 'tcp' ? '6' : '17' },
        related: { ip: [local.ip] },
        ...processFields(p),
        dockward: { network: networkFields(ns, t, s, { baseline, first_listener: first || undefined }) },
      },
    }, t.container, action);
    return 1;
  }

  private connectionDoc(ns: Namespace, f: Fact, now: number, baseline: boolean): number {
    const { t } = f;
    const s = t.sock;
    const local = decodeEndpoint(s.local);
    const remote = decodeEndpoint(s.remote);
    const [src, dst] = t.side === 'server' ? [remote, local] : [local, remote];
    const p = t.owners[0];
    const opened = f.action === 'connection_opened';
    const at = f.closedAt ?? now;
    const state = s.transport === 'tcp' ? TCP_STATES[s.st] ?? s.st : undefined;
    this.send({
      id: f.short
        ? deterministicId(this.bootMs ?? 0, ns.inode, s.key, 'short', Math.round(at / 1000))
        : deterministicId(this.bootMs ?? 0, ns.inode, s.key, s.inode, opened ? 'open' : 'close'),
      doc: {
        '@timestamp': new Date(at).toISOString(),
        message: `${s.transport} connection ${opened ? 'opened' : 'closed'}: ${endpointText(src)} → ${endpointText(dst)} (${t.direction}${state ? `, ${state}` : ''})${p ? ` by ${p.name}[${p.pid}]` : ''}`,
        event: { kind: 'event', category: ['network'], type: opened ? ['connection', 'start'] : ['connection', 'end'], action: f.action, dataset: DATASET, module: 'dockward', created: new Date().toISOString(), ...(f.reason ? { reason: f.reason } : {}) },
        source: { ip: src.ip, port: src.port },
        destination: { ip: dst.ip, port: dst.port },
        network: { transport: s.transport, type: local.ip.includes(':') ? 'ipv6' : 'ipv4', iana_number: s.transport === 'tcp' ? '6' : '17', direction: t.direction },
        related: { ip: [...new Set([src.ip, dst.ip])] },
        ...processFields(p),
        dockward: { network: networkFields(ns, t, s, { baseline, short_lived: f.short || undefined, state }) },
      },
    }, t.container, f.action);
    return 1;
  }

  /**
   * Past max_documents: one document per (action, direction, side, source ip, destination ip and
   * port) — the ephemeral port is what is dropped — with the count, up to max_documents − 1 of the
   * largest groups and one more for the rest.
   */
  private summaries(ns: Namespace, facts: Fact[], now: number, baseline: boolean): number {
    const groups = new Map<string, { facts: Fact[]; src: string; dst: { ip: string; port: number } }>();
    for (const f of facts) {
      const t = f.t;
      const local = decodeEndpoint(t.sock.local);
      const remote = decodeEndpoint(t.sock.remote);
      const [src, dst] = t.side === 'server' ? [remote, local] : [local, remote];
      const k = `${f.action}|${t.sock.transport}|${t.direction}|${t.side}|${src.ip}|${dst.ip}|${dst.port}`;
      const g = groups.get(k);
      if (g) g.facts.push(f);
      else groups.set(k, { facts: [f], src: src.ip, dst });
    }
    const sorted = [...groups.entries()].sort((a, b) => b[1].facts.length - a[1].facts.length);
    const keep = sorted.length > this.cfg.max_documents ? sorted.slice(0, this.cfg.max_documents - 1) : sorted;
    const rest = sorted.slice(keep.length);
    let docs = 0;
    for (const [k, g] of keep) {
      const f0 = g.facts[0];
      const owners = uniqueOwners(g.facts.flatMap((f) => f.t.owners));
      const p = owners[0];
      const opened = f0.action === 'connection_opened';
      this.send({
        id: deterministicId(this.bootMs ?? 0, ns.inode, 'summary', k, now),
        doc: {
          '@timestamp': new Date(now).toISOString(),
          message: `${g.facts.length} ${f0.t.sock.transport} connections ${opened ? 'opened' : 'closed'}: ${g.src} → ${g.dst.ip}:${g.dst.port} (${f0.t.direction}, summarised)`,
          event: { kind: 'event', category: ['network'], type: opened ? ['connection', 'start'] : ['connection', 'end'], action: f0.action, dataset: DATASET, module: 'dockward', created: new Date().toISOString(), ...(f0.reason ? { reason: f0.reason } : {}) },
          source: { ip: g.src },
          destination: { ip: g.dst.ip, port: g.dst.port },
          network: { transport: f0.t.sock.transport, type: g.dst.ip.includes(':') ? 'ipv6' : 'ipv4', iana_number: f0.t.sock.transport === 'tcp' ? '6' : '17', direction: f0.t.direction },
          related: { ip: [...new Set([g.src, g.dst.ip])] },
          ...processFields(p),
          dockward: { network: { ...networkFields(ns, f0.t, f0.t.sock, { baseline }), owners: owners.length ? owners.map((o) => ({ pid: o.pid, name: o.name })) : undefined, summary: true, count: g.facts.length } },
        },
      }, p?.container ?? f0.t.container, f0.action);
      docs++;
    }
    for (const action of ['connection_opened', 'connection_closed'] as const) {
      const n = rest.reduce((sum, [, g]) => sum + (g.facts[0].action === action ? g.facts.length : 0), 0);
      if (n === 0) continue;
      this.send({
        id: deterministicId(this.bootMs ?? 0, ns.inode, 'summary-rest', action, now),
        doc: {
          '@timestamp': new Date(now).toISOString(),
          message: `${n} more connections ${action === 'connection_opened' ? 'opened' : 'closed'} to other peers (summarised)`,
          event: { kind: 'event', category: ['network'], type: action === 'connection_opened' ? ['connection', 'start'] : ['connection', 'end'], action, dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
          dockward: { network: { netns: ns.inode, baseline: baseline || undefined, summary: true, count: n } },
        },
      }, ns.containers[0], action);
      docs++;
    }
    this.m.summarised.inc(facts.length);
    return docs;
  }

  /** New client connections (attempts and ones already in TIME_WAIT included) to burst_ports or more ports of one host. */
  private bursts(ns: Namespace, facts: Fact[], now: number): number {
    const byHost = new Map<string, { ports: Set<number>; facts: Fact[] }>();
    for (const f of facts) {
      if (f.t.side !== 'client' || (f.action !== 'connection_opened' && !f.short)) continue;
      const r = decodeEndpoint(f.t.sock.remote);
      const k = `${f.t.sock.transport}|${r.ip}`;
      let h = byHost.get(k);
      if (!h) byHost.set(k, (h = { ports: new Set(), facts: [] }));
      h.ports.add(r.port);
      h.facts.push(f);
    }
    let docs = 0;
    for (const [k, h] of byHost) {
      if (h.ports.size < this.cfg.burst_ports) continue;
      const [transport, ip] = k.split('|');
      const f0 = h.facts[0];
      const owners = uniqueOwners(h.facts.flatMap((f) => f.t.owners));
      const ports = [...h.ports].sort((a, b) => a - b);
      const local = decodeEndpoint(f0.t.sock.local);
      this.send({
        id: deterministicId(this.bootMs ?? 0, ns.inode, 'burst', k, now),
        doc: {
          '@timestamp': new Date(now).toISOString(),
          message: `${h.facts.length} new ${transport} connections to ${ports.length} ports of ${ip} in one read`,
          event: { kind: 'event', category: ['network'], type: ['connection', 'info'], action: 'connection_burst', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
          source: { ip: local.ip },
          destination: { ip },
          network: { transport, type: ip.includes(':') ? 'ipv6' : 'ipv4', direction: f0.t.direction },
          related: { ip: [...new Set([local.ip, ip])] },
          ...processFields(owners[0]),
          dockward: { network: { netns: ns.inode, side: 'client', owners: owners.length ? owners.map((o) => ({ pid: o.pid, name: o.name })) : undefined, count: h.facts.length, burst: { ports: ports.length, sample: ports.slice(0, 20) } } },
        },
      }, owners[0]?.container ?? f0.t.container, 'connection_burst');
      docs++;
    }
    return docs;
  }
}

/** A socket that waits for peers: TCP LISTEN, or UDP bound to a port with no peer. */
function isListener(s: RawSocket): boolean {
  if (s.transport === 'tcp') return s.st === '0A';
  return s.st === '07' && /^0+:0000$/.test(s.remote) && !s.local.endsWith(':0000');
}

function networkFields(ns: Namespace, t: Tracked, s: RawSocket, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { netns: ns.inode, side: t.side, inode: s.inode || undefined };
  if (t.owners.length > 1) out.owners = t.owners.map((o) => ({ pid: o.pid, name: o.name }));
  else if (t.owners.length === 1) out.owners = [{ pid: t.owners[0].pid, name: t.owners[0].name }];
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== false) out[k] = v;
  return out;
}

function processFields(p: Owner | undefined): Record<string, unknown> {
  if (!p) return {};
  return {
    process: {
      pid: p.pid,
      name: p.name,
      executable: p.executable,
      args: p.args,
      command_line: p.command_line,
      start: p.start,
      ...(p.ppid !== undefined ? { parent: { pid: p.ppid, name: p.parentName } } : {}),
      ...(p.uid !== undefined ? { user: { id: String(p.uid) } } : {}),
    },
  };
}

function uniqueOwners(list: Owner[]): Owner[] {
  const byPid = new Map<number, Owner>();
  for (const o of list) if (!byPid.has(o.pid) && byPid.size < MAX_OWNERS) byPid.set(o.pid, o);
  return [...byPid.values()];
}

function endpointText(e: { ip: string; port: number }): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/** The process behind a pid, read now; undefined when it exited. */
export function readOwner(pid: number, container: string | undefined, bootMs: number | undefined): Owner | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const ticks = Number(fields[19]);
  const o: Owner = { pid, name: comm, ppid, container };
  if (bootMs !== undefined && Number.isFinite(ticks)) o.start = new Date(bootMs + Math.round((ticks * 1000) / 100)).toISOString();
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = (raw.endsWith('\0') ? raw.slice(0, -1) : raw).split('\0');
    if (raw.length > 0) {
      o.args = args;
      o.command_line = args.join(' ');
      const base = (args[0] ?? '').split('/').pop()!.replace(/^-/, '');
      // argv[0] names the program as started (nc, not nc.openbsd); comm is cut at 15 characters.
      if (base && (base.startsWith(comm) || comm.startsWith(base.slice(0, 15)))) o.name = base;
    }
  } catch {
    /* exited: keep comm */
  }
  try {
    o.executable = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    /* a kernel thread, or gone */
  }
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    if (m) o.uid = Number(m[1]);
  } catch {
    /* gone */
  }
  if (ppid > 0) {
    try {
      const ps = readFileSync(`/proc/${ppid}/stat`, 'latin1');
      o.parentName = ps.slice(ps.indexOf('(') + 1, ps.lastIndexOf(')'));
    } catch {
      /* gone */
    }
  }
  return o;
}

/**
 * Which tables of the namespace of `pid` hold sockets, from its own counters (inuse per protocol;
 * TIME_WAIT, counted for v4 and v6 together, makes both TCP tables worth reading). Undefined when
 * the counters are not readable: then every table is read.
 */
function socketCounts(pid: number): Record<string, boolean> | undefined {
  try {
    const v4 = readFileSync(`/proc/${pid}/net/sockstat`, 'latin1');
    const v6 = readFileSync(`/proc/${pid}/net/sockstat6`, 'latin1');
    const num = (text: string, re: RegExp) => {
      const m = re.exec(text);
      if (!m) throw new Error('unknown sockstat format');
      return Number(m[1]);
    };
    const tw = num(v4, /^TCP: .*\btw (\d+)/m);
    return {
      tcp: num(v4, /^TCP: inuse (\d+)/m) + tw > 0,
      tcp6: num(v6, /^TCP6: inuse (\d+)/m) + tw > 0,
      udp: num(v4, /^UDP: inuse (\d+)/m) > 0,
      udp6: num(v6, /^UDP6: inuse (\d+)/m) > 0,
    };
  } catch {
    return undefined;
  }
}

function nsLink(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

function procCgroupHas(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'latin1').includes(id);
  } catch {
    return false;
  }
}

/**
 * cgroup.procs of the cgroup holding `pid`: v1 hierarchies (pids first, then any) under
 * /sys/fs/cgroup/<controller>, the v2 one at /sys/fs/cgroup or /sys/fs/cgroup/unified.
 */
export function cgroupProcsPath(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'latin1');
  } catch {
    return undefined;
  }
  const first: string[] = [];
  const rest: string[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctrls = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (path === '/' || path === '') continue;
    if (ctrls === '') rest.push(`/sys/fs/cgroup${path}/cgroup.procs`, `/sys/fs/cgroup/unified${path}/cgroup.procs`);
    else {
      const names = ctrls.split(',').map((c) => c.replace(/^name=/, ''));
      const dirs = [names.join(','), ...names].map((d) => `/sys/fs/cgroup/${d}${path}/cgroup.procs`);
      (names.includes('pids') ? first : rest).push(...dirs);
    }
  }
  for (const p of [...first, ...rest]) {
    try {
      readFileSync(p, 'latin1');
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Every pid whose network namespace is `nsKey` (the fallback when no cgroup file is readable). */
function pidsInNamespace(nsKey: string): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    if (nsLink(Number(n)) === nsKey) out.push(Number(n));
  }
  return out;
}

function bootTimeMs(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Why connections cannot be read here, or undefined. */
export function connectionsBlocker(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform}): no /proc socket tables`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root: the socket tables and file descriptors of container processes are readable by root only';
  try {
    readlinkSync('/proc/self/ns/net');
    readFileSync('/proc/self/net/tcp', 'latin1');
  } catch (err) {
    return `cannot read /proc/self/ns/net or /proc/self/net/tcp (${(err as NodeJS.ErrnoException).code}): no usable /proc`;
  }
  return undefined;
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
    available: get('dockward_connections_available', () => new Gauge({ name: 'dockward_connections_available', help: '1 when the connections collector reads socket tables', registers: r })),
  };
}
