/**
 * The connections collector's documents (logs-dockward.network-<ns>): a listener or connection
 * opened or closed, summaries past `max_documents` facts in one read, and bursts of new client
 * connections to many ports of one host. Ids are deterministic (boot time, namespace, socket key
 * and inode), so a document re-sent after a restart is a duplicate, not a second event.
 */
import { deterministicId } from '../ship/envelope';
import type { Burst } from './connection-burst';
import type { Fact, Namespace, Tracked } from './connection-diff';
import { MAX_OWNERS, type Owner } from './connection-procfs';
import type { ConnectionsConfig } from './connections';
import { decodeEndpoint, TCP_STATES, type RawSocket } from './proc-net';

export const DATASET = 'dockward.network';

type Send = (env: { id: string; doc: Record<string, unknown> }, containerId: string, action: string) => void;

/** Each method hands its documents to `send` and returns how many it sent. */
export class ConnectionDocuments {
  constructor(
    private readonly bootMs: number | undefined,
    private readonly cfg: Pick<ConnectionsConfig, 'max_documents' | 'burst_window'>,
    private readonly send: Send,
  ) {}

  listenerDoc(ns: Namespace, t: Tracked, action: 'listener_opened' | 'listener_closed', now: number, baseline: boolean, first = false, reason?: string): number {
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

  connectionDoc(ns: Namespace, f: Fact, now: number, baseline: boolean): number {
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
  summaries(ns: Namespace, facts: Fact[], now: number, baseline: boolean): number {
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
    return docs;
  }

  /** Hosts that crossed burst_ports within the burst window (BurstWindow): one document each. */
  bursts(ns: Namespace, bursts: Burst[], now: number): number {
    for (const h of bursts) {
      const f0 = h.facts[0];
      const owners = uniqueOwners(h.facts.flatMap((f) => f.t.owners));
      const local = decodeEndpoint(f0.t.sock.local);
      this.send({
        id: deterministicId(this.bootMs ?? 0, ns.inode, 'burst', h.key, now),
        doc: {
          '@timestamp': new Date(now).toISOString(),
          message: `${h.count} new ${h.transport} connections to ${h.ports.length} ports of ${h.ip} in ${Math.round(this.cfg.burst_window / 1000)} s`,
          event: { kind: 'event', category: ['network'], type: ['connection', 'info'], action: 'connection_burst', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
          source: { ip: local.ip },
          destination: { ip: h.ip },
          network: { transport: h.transport, type: h.ip.includes(':') ? 'ipv6' : 'ipv4', direction: f0.t.direction },
          related: { ip: [...new Set([local.ip, h.ip])] },
          ...processFields(owners[0]),
          dockward: { network: { netns: ns.inode, side: 'client', owners: owners.length ? owners.map((o) => ({ pid: o.pid, name: o.name })) : undefined, count: h.count, burst: { ports: h.ports.length, sample: h.ports.slice(0, 20) } } },
        },
      }, owners[0]?.container ?? f0.t.container, 'connection_burst');
    }
    return bursts.length;
  }
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
