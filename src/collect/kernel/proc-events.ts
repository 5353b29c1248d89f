/**
 * The kernel's process-events connector (linux/connector.h, linux/cn_proc.h): the subscribe message
 * and a parser for the datagrams it multicasts. One datagram holds one or more netlink messages,
 * each `nlmsghdr` (16 bytes) + `cn_msg` (20 bytes) + `proc_event`:
 *
 *   proc_event: what u32 @0, cpu u32 @4, timestamp_ns u64 @8, event_data union @16
 *     fork:  parent_pid, parent_tgid, child_pid, child_tgid
 *     exec:  process_pid, process_tgid
 *     uid/gid: process_pid, process_tgid, real id, effective id
 *     comm:  process_pid, process_tgid, comm[16]
 *     exit:  process_pid, process_tgid, exit_code (wait status), exit_signal, parent_pid, parent_tgid
 *     ack (what 0): err
 *
 * Everything is little-endian on the hosts dockward supports (x86-64, arm64): the kernel writes
 * host byte order.
 */

export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;
const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;
const NLMSG_DONE = 3;
const NLMSG_ERROR = 2;
const NLMSG_OVERRUN = 4;
/** Where proc_event starts inside a netlink message. */
const EV = NLMSG_HDRLEN + CN_MSG_LEN;

export const PROC_EVENT = {
  NONE: 0x0,
  FORK: 0x1,
  EXEC: 0x2,
  UID: 0x4,
  GID: 0x40,
  SID: 0x80,
  PTRACE: 0x100,
  COMM: 0x200,
  COREDUMP: 0x40000000,
  EXIT: 0x80000000,
} as const;

export type ProcEvent =
  | { what: 'ack'; ts: bigint; err: number }
  | { what: 'fork'; ts: bigint; parentPid: number; parentTgid: number; childPid: number; childTgid: number }
  | { what: 'exec'; ts: bigint; pid: number; tgid: number }
  | { what: 'exit'; ts: bigint; pid: number; tgid: number; status: number; parentTgid: number }
  | { what: 'uid' | 'gid'; ts: bigint; pid: number; tgid: number; real: number; effective: number }
  | { what: 'comm'; ts: bigint; pid: number; tgid: number; comm: string }
  | { what: 'other'; ts: bigint; code: number; pid: number; tgid: number };

/** `nlmsghdr` + `cn_msg` + `PROC_CN_MCAST_LISTEN` (or IGNORE), addressed from `port`. */
export function subscribeMessage(port: number, op: number = PROC_CN_MCAST_LISTEN): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + CN_MSG_LEN + 4);
  b.writeUInt32LE(b.length, 0); // nlmsg_len
  b.writeUInt16LE(NLMSG_DONE, 4); // nlmsg_type
  b.writeUInt32LE(port, 12); // nlmsg_pid
  b.writeUInt32LE(CN_IDX_PROC, 16);
  b.writeUInt32LE(CN_VAL_PROC, 20);
  b.writeUInt16LE(4, 32); // cn_msg.len
  b.writeUInt32LE(op, 36);
  return b;
}

/**
 * Every process event in one datagram, handed to `each` (no array: this is the hot path). Messages
 * of other connector indices, errors and truncated tails are skipped; returns how many were parsed.
 */
export function parseDatagram(buf: Buffer, each: (ev: ProcEvent) => void): number {
  let off = 0;
  let n = 0;
  while (off + EV + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    const type = buf.readUInt16LE(off + 4);
    if (type !== NLMSG_ERROR && type !== NLMSG_OVERRUN && buf.readUInt32LE(off + 16) === CN_IDX_PROC) {
      const ev = parseEvent(buf, off + EV, off + len);
      if (ev) {
        each(ev);
        n++;
      }
    }
    off += (len + 3) & ~3; // NLMSG_ALIGN
  }
  return n;
}

function parseEvent(b: Buffer, o: number, end: number): ProcEvent | undefined {
  if (o + 16 > end) return undefined;
  const what = b.readUInt32LE(o);
  const ts = b.readBigUInt64LE(o + 8);
  const d = o + 16;
  const u = (i: number) => b.readUInt32LE(d + 4 * i);
  switch (what) {
    case PROC_EVENT.NONE:
      return { what: 'ack', ts, err: d + 4 <= end ? u(0) : 0 };
    case PROC_EVENT.FORK:
      return { what: 'fork', ts, parentPid: u(0), parentTgid: u(1), childPid: u(2), childTgid: u(3) };
    case PROC_EVENT.EXEC:
      return { what: 'exec', ts, pid: u(0), tgid: u(1) };
    case PROC_EVENT.EXIT:
      // parent_pid/parent_tgid were added in 4.18; older kernels leave them out (zero here).
      return { what: 'exit', ts, pid: u(0), tgid: u(1), status: u(2), parentTgid: d + 24 <= end ? u(5) : 0 };
    case PROC_EVENT.UID:
    case PROC_EVENT.GID:
      return { what: what === PROC_EVENT.UID ? 'uid' : 'gid', ts, pid: u(0), tgid: u(1), real: u(2), effective: u(3) };
    case PROC_EVENT.COMM: {
      const raw = b.subarray(d + 8, Math.min(d + 24, end));
      const z = raw.indexOf(0);
      return { what: 'comm', ts, pid: u(0), tgid: u(1), comm: raw.toString('latin1', 0, z < 0 ? raw.length : z) };
    }
    default:
      return { what: 'other', ts, code: what, pid: u(0), tgid: u(1) };
  }
}

/** A wait status (`exit_code` of the exit event) as an exit code and, if killed, the signal. */
export function decodeWaitStatus(status: number): { code: number; signal?: number } {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff };
  return { code: 128 + sig, signal: sig };
}

/** Builds a datagram like the kernel's (for tests and the benchmark). */
export function encodeEvent(ev: ProcEvent): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + CN_MSG_LEN + 16 + 24);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(NLMSG_DONE, 4);
  b.writeUInt32LE(CN_IDX_PROC, 16);
  b.writeUInt32LE(CN_VAL_PROC, 20);
  b.writeUInt16LE(16 + 24, 32);
  const o = EV;
  const codes = { ack: 0, fork: 1, exec: 2, uid: 4, gid: 0x40, comm: 0x200, exit: 0x80000000 } as const;
  b.writeUInt32LE(ev.what === 'other' ? ev.code : codes[ev.what], o);
  b.writeBigUInt64LE(ev.ts, o + 8);
  const d = o + 16;
  const w = (i: number, v: number) => b.writeUInt32LE(v >>> 0, d + 4 * i);
  switch (ev.what) {
    case 'ack': w(0, ev.err); break;
    case 'fork': w(0, ev.parentPid); w(1, ev.parentTgid); w(2, ev.childPid); w(3, ev.childTgid); break;
    case 'exec': w(0, ev.pid); w(1, ev.tgid); break;
    case 'exit': w(0, ev.pid); w(1, ev.tgid); w(2, ev.status); w(3, 17); w(4, ev.parentTgid); w(5, ev.parentTgid); break;
    case 'uid': case 'gid': w(0, ev.pid); w(1, ev.tgid); w(2, ev.real); w(3, ev.effective); break;
    case 'comm': w(0, ev.pid); w(1, ev.tgid); b.write(ev.comm.slice(0, 15), d + 8, 'latin1'); break;
    case 'other': w(0, ev.pid); w(1, ev.tgid); break;
  }
  return b;
}
