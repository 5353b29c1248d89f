/**
 * New client connections from one namespace to many ports of one host, counted over a sliding
 * window of reads rather than within a single read: a scan whose connections straddle a read
 * boundary (or one paced slower than the schedule) is a scan all the same. One burst per host per
 * window; the port sets are bounded (hosts per namespace, ports per host) and what is left out is
 * counted by the caller.
 */
import type { Fact } from './connection-diff';
import { decodeEndpoint } from './proc-net';

/** Hosts tracked per namespace; a scan of a whole subnet is still one namespace's few hundred. */
export const MAX_BURST_HOSTS = 256;
/** Distinct ports remembered per host: enough for any threshold, bounded against a full sweep. */
export const MAX_BURST_PORTS = 1024;

interface HostWindow {
  /** port → when a new connection to it was last seen */
  ports: Map<number, number>;
  facts: Fact[];
  count: number;
  /** when this host's last burst was reported */
  said?: number;
}

export interface Burst {
  key: string;
  transport: string;
  ip: string;
  ports: number[];
  facts: Fact[];
  count: number;
}

export class BurstWindow {
  private readonly hosts = new Map<string, HostWindow>();
  /** entries left out by the bounds since the last `takeOverflow()` */
  private overflow = 0;

  constructor(private readonly windowMs: number, private readonly threshold: number) {}

  /** Adds a read's facts at `now`; returns the hosts that crossed the threshold in the window. */
  add(facts: Fact[], now: number): Burst[] {
    this.prune(now);
    const touched = new Set<string>();
    for (const f of facts) {
      if (f.t.side !== 'client' || (f.action !== 'connection_opened' && !f.short)) continue;
      const r = decodeEndpoint(f.t.sock.remote);
      const key = `${f.t.sock.transport}|${r.ip}`;
      let h = this.hosts.get(key);
      if (!h) {
        if (this.hosts.size >= MAX_BURST_HOSTS) { this.overflow++; continue; }
        this.hosts.set(key, (h = { ports: new Map(), facts: [], count: 0 }));
      }
      if (!h.ports.has(r.port) && h.ports.size >= MAX_BURST_PORTS) { this.overflow++; continue; }
      h.ports.set(r.port, now);
      h.count++;
      // The owners of the first few are enough to name who scans.
      if (h.facts.length < 32) h.facts.push(f);
      touched.add(key);
    }
    const out: Burst[] = [];
    for (const key of touched) {
      const h = this.hosts.get(key)!;
      if (h.ports.size < this.threshold) continue;
      if (h.said !== undefined && now - h.said < this.windowMs) continue;
      h.said = now;
      const [transport, ip] = key.split('|');
      out.push({ key, transport, ip, ports: [...h.ports.keys()].sort((a, b) => a - b), facts: h.facts, count: h.count });
    }
    return out;
  }

  takeOverflow(): number {
    const n = this.overflow;
    this.overflow = 0;
    return n;
  }

  private prune(now: number): void {
    for (const [key, h] of this.hosts) {
      for (const [port, at] of h.ports) if (now - at >= this.windowMs) h.ports.delete(port);
      if (h.ports.size === 0 && (h.said === undefined || now - h.said >= this.windowMs)) this.hosts.delete(key);
      else if (h.ports.size === 0) { h.facts = []; h.count = 0; }
    }
  }
}
