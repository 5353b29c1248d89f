import { EventEmitter } from 'node:events';
import { openRaw, type RawSocket } from '../kernel/netlink';
import {
  AUDIT_GET, AUDIT_LIST_RULES, AUDIT_NLGRP_READLOG, AuditProtocolError, NETLINK_AUDIT, NLMSG_DONE, NLMSG_ERROR,
  ackErrno, messages, request, type NetlinkMessage,
} from './protocol';

interface Pending {
  seq: number;
  /** What ends the exchange: the acknowledgement, a reply of this type, or NLMSG_DONE (a dump). */
  until: 'ack' | number | 'done';
  got: NetlinkMessage[];
  resolve: (m: NetlinkMessage[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A NETLINK_AUDIT socket. `control` sockets exchange requests with the kernel (status, rules);
 * `reader` sockets join the read-only multicast group and emit `record` (type, text) for every
 * audit record and `overrun` when the kernel dropped records because the buffer was full. Neither
 * registers as the audit daemon (AUDIT_SET pid), so auditd keeps its place and its unicast stream.
 */
export class AuditSocket extends EventEmitter {
  private readonly sock: RawSocket;
  private seq = 1;
  private pending: Pending | undefined;
  private closed = false;

  constructor(kind: 'control' | 'reader', recvBufferBytes = 256 * 1024) {
    super();
    this.sock = openRaw(NETLINK_AUDIT, recvBufferBytes, this, (msg) => this.datagram(msg));
    if (kind === 'reader') this.sock.addMembership(AUDIT_NLGRP_READLOG);
  }

  get recvBufferBytes(): number {
    return this.sock.getRecvBufferSize();
  }

  /**
   * One request; resolves with the messages that answered it. The kernel sends a rule list from a
   * thread of its own, so its acknowledgement may come before the list: a dump waits for DONE.
   */
  exchange(type: number, payload?: Buffer, timeoutMs = 2000): Promise<NetlinkMessage[]> {
    if (this.pending) return Promise.reject(new AuditProtocolError('one audit request at a time'));
    const until: Pending['until'] = type === AUDIT_LIST_RULES ? 'done' : type === AUDIT_GET ? AUDIT_GET : 'ack';
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new AuditProtocolError(`the kernel did not answer audit request ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { seq, until, got: [], resolve, reject, timer };
      this.sock.send(request(type, seq, this.sock.address().port, payload), {}, (err) => {
        if (!err || this.pending?.seq !== seq) return;
        this.settle(new AuditProtocolError(`audit request ${type}: ${err.message}`, (err as { errno?: number }).errno));
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) this.settle(new AuditProtocolError('audit socket closed'));
    this.sock.close();
  }

  private datagram(buf: Buffer): void {
    const p = this.pending;
    for (const m of messages(buf)) {
      if (p && m.seq === p.seq && (m.type < 1100 || m.type >= 3000)) {
        if (m.type === NLMSG_ERROR) {
          const errno = ackErrno(m.payload);
          if (errno !== 0) return this.settle(new AuditProtocolError(`audit request refused: errno ${errno}`, errno));
          if (p.until === 'ack') return this.settle(undefined);
          continue;
        }
        if (m.type === NLMSG_DONE) {
          if (p.until === 'done') return this.settle(undefined);
          continue;
        }
        p.got.push({ ...m, payload: Buffer.from(m.payload) });
        if (p.until === m.type) return this.settle(undefined);
        continue;
      }
      // Records (1100…2999) are text; a trailing NUL is not part of it.
      if (m.type >= 1100 && m.type < 3000) this.emit('record', m.type, m.payload);
    }
  }

  private settle(err: Error | undefined): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(p.got);
  }
}
