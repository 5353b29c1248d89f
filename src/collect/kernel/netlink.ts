import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { CN_IDX_PROC, NETLINK_CONNECTOR, PROC_CN_MCAST_IGNORE, subscribeMessage } from './proc-events';

/** The part of the `netlink` package's RawNetlinkSocket used here (its message layer drops connector messages). */
export interface RawSocket extends EventEmitter {
  send(msg: Uint8Array, options?: { port?: number }, cb?: (err?: Error) => void): void;
  close(): void;
  address(): { port: number; groups: number };
  addMembership(group: number): void;
  getRecvBufferSize(): number;
  setRecvBufferSize(size: number): void;
  unref(): void;
}

export type RawCtor = new (protocol: number, options?: { recvBufferSize?: number }) => RawSocket;

export function loadRaw(): RawCtor {
  // Loaded on first use: on a host where the prebuilt binary cannot load, only this collector is off.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('netlink/dist/raw') as { RawNetlinkSocket: RawCtor }).RawNetlinkSocket;
}

/**
 * A raw netlink socket whose messages go to `onMessage` and whose ENOBUFS (the kernel dropped
 * datagrams: the buffer was full) becomes `overrun` on `owner`, other errors `error`. These run
 * inside the addon's native callback: an exception escaping one is not catchable there and aborts
 * the process ("terminate called after throwing an instance of 'Napi::Error'", seen once in three
 * 20,000-process bursts). So none escapes: a handler's failure is reported as an 'error' on the
 * next turn, outside the native frame.
 */
export function openRaw(protocol: number, recvBufferBytes: number, owner: EventEmitter, onMessage: (msg: Buffer) => void): RawSocket {
  const Raw = loadRaw();
  const sock = new Raw(protocol, { recvBufferSize: recvBufferBytes });
  const guard = (f: () => void): void => {
    try {
      f();
    } catch (err) {
      setImmediate(() => owner.emit('error', err instanceof Error ? err : new Error(String(err))));
    }
  };
  sock.on('message', (msg: Buffer) => guard(() => onMessage(msg)));
  sock.on('error', (err: Error & { code?: string }) => guard(() => (err.code === 'ENOBUFS' ? owner.emit('overrun') : owner.emit('error', err))));
  return sock;
}

/**
 * A NETLINK_CONNECTOR socket in the CN_IDX_PROC group. Emits `datagram` (Buffer) for every
 * datagram and `overrun` when the kernel dropped datagrams because the receive buffer was full
 * (ENOBUFS on recvmsg: the socket stays usable, the lost events are gone).
 */
export class ProcConnector extends EventEmitter {
  private readonly sock: RawSocket;
  private closed = false;

  constructor(recvBufferBytes: number) {
    super();
    this.sock = openRaw(NETLINK_CONNECTOR, recvBufferBytes, this, (msg) => this.emit('datagram', msg));
    this.sock.addMembership(CN_IDX_PROC);
  }

  /** Bytes the kernel actually granted (it doubles the request, capped by net.core.rmem_max). */
  get recvBufferBytes(): number {
    return this.sock.getRecvBufferSize();
  }

  setRecvBuffer(bytes: number): number {
    try {
      this.sock.setRecvBufferSize(bytes);
    } catch {
      /* keep what we have */
    }
    return this.recvBufferBytes;
  }

  /**
   * Sends PROC_CN_MCAST_LISTEN and resolves on the kernel's acknowledgement (a `what: 0` event on
   * the group); a kernel that refuses (no CAP_NET_ADMIN in the initial namespaces) sends nothing,
   * hence the timeout. `isAck` is the caller's parser applied to each datagram.
   */
  listen(isAck: (d: Buffer) => boolean, timeoutMs = 2000): Promise<void> {
    return new Promise((resolve, reject) => {
      const onDatagram = (d: Buffer) => {
        if (!isAck(d)) return;
        clearTimeout(timer);
        this.off('datagram', onDatagram);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('datagram', onDatagram);
        reject(new Error(`the kernel did not acknowledge the process-events subscription within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('datagram', onDatagram);
      this.sock.send(subscribeMessage(this.sock.address().port), {}, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.off('datagram', onDatagram);
        reject(err);
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sock.send(subscribeMessage(this.sock.address().port, PROC_CN_MCAST_IGNORE));
    } catch {
      /* closing anyway */
    }
    this.sock.close();
  }
}

/**
 * Why kernel process events cannot run here, or undefined when nothing speaks against it (the
 * subscription itself is the final test). Cheap: no socket.
 */
export function kernelEventsBlocker(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'latin1');
  } catch {
    return '/proc is not readable';
  }
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const CAP_NET_ADMIN = 12n;
  if (!capEff || ((BigInt(`0x${capEff[1]}`) >> CAP_NET_ADMIN) & 1n) === 0n) {
    return process.geteuid?.() === 0 ? 'no CAP_NET_ADMIN' : 'not root (needs CAP_NET_ADMIN)';
  }
  try {
    const map = readFileSync('/proc/self/uid_map', 'latin1').trim().split(/\s+/);
    if (map[0] !== '0' || map[1] !== '0' || map[2] !== '4294967295') return 'inside a user namespace (rootless Docker or a user-namespaced container)';
  } catch {
    /* no user namespaces in this kernel */
  }
  // In the initial PID namespace pid 2 is always kthreadd; a container (without `pid: host`) has its own.
  try {
    if (readFileSync('/proc/2/comm', 'latin1').trim() !== 'kthreadd') return 'not in the host PID namespace (in a container: use pid: host)';
  } catch {
    return 'not in the host PID namespace (in a container: use pid: host)';
  }
  try {
    loadRaw();
  } catch (err) {
    return `the netlink binding cannot load: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** Subscribes once and unsubscribes: undefined when kernel process events work here, else why not. */
export async function probeKernelEvents(isAck: (d: Buffer) => boolean): Promise<string | undefined> {
  const blocker = kernelEventsBlocker();
  if (blocker) return blocker;
  let conn: ProcConnector | undefined;
  try {
    conn = new ProcConnector(64 * 1024);
    await conn.listen(isAck, 1500);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    conn?.close();
  }
}
