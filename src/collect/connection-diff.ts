/**
 * One network namespace's state between reads, and the diff of a new read against it: which
 * listeners and connections opened and closed. Pure bookkeeping over parsed socket tables; the
 * only I/O is the owner lookup it is handed, called once per read and only for new sockets.
 */
import type { Owner } from './connection-procfs';
import type { BurstWindow } from './connection-burst';
import { decodeEndpoint, isLoopback, isUnspecified, type RawSocket } from './proc-net';

/** TIME_WAIT and CLOSE: the connection is over (CLOSE is also an unconnected UDP socket, see isListener). */
const DEAD = new Set(['06', '07']);
const TIME_WAIT_MS = 60_000; // TCP_TIMEWAIT_LEN
/** Linux's default ip_local_port_range starts here. */
const EPHEMERAL_LOW = 32768;

export type Side = 'client' | 'server' | 'listener';

/** A socket dockward reported open (a connection or a listener), remembered to report its end. */
export interface Tracked {
  sock: RawSocket;
  side: Side;
  direction?: 'inbound' | 'outbound' | 'internal';
  owners: Owner[];
  container: string;
  opened: number;
}

export interface Namespace {
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
  /** New client connections per remote host over the burst window. */
  bursts: BurstWindow;
}

/** One opened/closed fact of a read, before it becomes a document (or part of a summary). */
export interface Fact {
  action: 'connection_opened' | 'connection_closed';
  t: Tracked;
  /** For a connection seen only in TIME_WAIT: when it closed (timer), for its id and timestamp. */
  closedAt?: number;
  short?: boolean;
  reason?: string;
}

export interface ListenerEvent {
  t: Tracked;
  action: 'listener_opened' | 'listener_closed';
  baseline: boolean;
  first: boolean;
}

export interface NamespaceDiff {
  listeners: ListenerEvent[];
  facts: Fact[];
  /** whether the owner lookup ran (new sockets were seen) */
  ownerWalk: boolean;
}

export function newNamespace(key: string, bursts: BurstWindow): Namespace {
  return { bursts, inode: key.replace(/\D/g, ''), containers: [], reads: 0, conns: new Map(), listeners: new Map(), dead: new Set(), pending: new Set(), everListened: false, listenedPorts: new Map() };
}

/**
 * Applies a read (`sockets`) to `ns` and says what changed. `baseline`: the namespace's first read
 * (what is there already is reported as such). `primary`: the container a socket without a known
 * owner is filed under. `lookupOwners`: socket inode → holders, for the inodes asked.
 */
export function diffNamespace(ns: Namespace, sockets: RawSocket[], primary: string, now: number, baseline: boolean, lookupOwners: (inodes: Set<number>) => Map<number, Owner[]>): NamespaceDiff {
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
  const owners = wanted.size > 0 ? lookupOwners(wanted) : new Map<number, Owner[]>();

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


  // Listeners.
  const hadListener = ns.everListened;
  const listenerEvents: ListenerEvent[] = [];
  for (const s of newListeners) {
    const before = ns.listeners.get(s.key);
    if (before) listenerEvents.push({ t: before, action: 'listener_closed', baseline: false, first: false });
    const t = track(s, 'listener');
    ns.listeners.set(s.key, t);
    listenerEvents.push({ t, action: 'listener_opened', baseline, first: !baseline && !hadListener });
  }
  for (const [k, t] of ns.listeners) {
    if (listenNow.has(k)) continue;
    ns.listeners.delete(k);
    listenerEvents.push({ t, action: 'listener_closed', baseline: false, first: false });
  }
  if (ns.listeners.size > 0) ns.everListened = true;
  return { listeners: listenerEvents, facts, ownerWalk: wanted.size > 0 };
}

/** A socket that waits for peers: TCP LISTEN, or UDP bound to a port with no peer. */
export function isListener(s: RawSocket): boolean {
  if (s.transport === 'tcp') return s.st === '0A';
  return s.st === '07' && /^0+:0000$/.test(s.remote) && !s.local.endsWith(':0000');
}
