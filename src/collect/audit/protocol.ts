/**
 * The kernel audit netlink protocol (linux/audit.h, linux/netlink.h): request messages, the
 * `audit_status` reply and the `audit_rule_data` structure rules are added, listed and removed
 * with. Little-endian, like the hosts dockward supports (x86-64, arm64): the kernel writes host
 * byte order. Pure: no socket here (socket.ts), so it is unit-tested on bytes.
 */
import { DockwardError } from '../../errors';

export const NETLINK_AUDIT = 9;
/** The read-only multicast group: records reach every member, and nobody becomes "the" audit daemon. */
export const AUDIT_NLGRP_READLOG = 1;

export const NLMSG_HDRLEN = 16;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;

export const AUDIT_GET = 1000;
export const AUDIT_SET = 1001;
export const AUDIT_ADD_RULE = 1011;
export const AUDIT_DEL_RULE = 1012;
export const AUDIT_LIST_RULES = 1013;

export const AUDIT_STATUS_ENABLED = 0x1;
export const AUDIT_FAIL_PANIC = 2;
/** audit_status.enabled: 2 is "locked" (`auditctl -e 2`): rules cannot change until reboot. */
export const AUDIT_LOCKED = 2;

export const AUDIT_FILTER_EXIT = 0x04;
export const AUDIT_ALWAYS = 2;
export const AUDIT_ARCH = 11;
export const AUDIT_FILTERKEY = 210;
export const AUDIT_EQUAL = 0x40000000;
/** subj_user…subj_clr, obj_user…obj_lev_high, watch, dir, exe: their value is a length into buf. */
const STRING_FIELDS = new Set([13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 105, 107, 112]);
const AUDIT_BITMASK_SIZE = 64;
const AUDIT_MAX_FIELDS = 64;
/** flags, action, field_count, mask[64], fields[64], values[64], fieldflags[64], buflen. */
const RULE_FIXED = 4 * (3 + AUDIT_BITMASK_SIZE + 3 * AUDIT_MAX_FIELDS + 1);

/** The execve pair of each ABI a process of this host can run (`-F arch=b64` and `b32`). */
export const EXEC_ABIS: ReadonlyArray<{ arch: number; name: string; syscalls: number[] }> = process.arch === 'arm64'
  ? [{ arch: 0xc00000b7, name: 'b64', syscalls: [221, 281] }, { arch: 0x40000028, name: 'b32', syscalls: [11, 387] }]
  : [{ arch: 0xc000003e, name: 'b64', syscalls: [59, 322] }, { arch: 0x40000003, name: 'b32', syscalls: [11, 358] }];

export class AuditProtocolError extends DockwardError {
  constructor(message: string, readonly errno?: number) {
    super('AUDIT_PROTOCOL', message);
  }
}

/** One request from `port`; `seq` pairs the kernel's answer with it. */
export function request(type: number, seq: number, port: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + ((payload.length + 3) & ~3));
  b.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(port, 12);
  payload.copy(b, NLMSG_HDRLEN);
  return b;
}

export interface NetlinkMessage {
  type: number;
  seq: number;
  payload: Buffer;
}

/**
 * The messages of one datagram. The kernel's audit records are known to carry an nlmsg_len that
 * leaves out the header or includes padding, so a record's length is not trusted (and a length
 * that does not fit ends the walk with the rest as one message).
 */
export function messages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    const seq = buf.readUInt32LE(off + 8);
    // A record (1100…2999) comes alone in its datagram: all of the rest is its text, whatever its length says.
    const record = type >= 1100 && type < 3000;
    const end = !record && len >= NLMSG_HDRLEN && off + len <= buf.length ? off + len : buf.length;
    out.push({ type, seq, payload: buf.subarray(off + NLMSG_HDRLEN, end) });
    off = (end + 3) & ~3;
  }
  return out;
}

/** NLMSG_ERROR's errno, negated to positive: 0 is the acknowledgement. */
export function ackErrno(payload: Buffer): number {
  return payload.length >= 4 ? -payload.readInt32LE(0) : 0;
}

export interface AuditStatus {
  enabled: number;
  failure: number;
  /** The registered audit daemon's pid (auditd), 0 when none. */
  pid: number;
  rateLimit: number;
  backlogLimit: number;
  lost: number;
  backlog: number;
}

export function parseStatus(p: Buffer): AuditStatus {
  if (p.length < 32) throw new AuditProtocolError(`audit_status of ${p.length} bytes`);
  const u = (i: number) => p.readUInt32LE(4 * i);
  return { enabled: u(1), failure: u(2), pid: u(3), rateLimit: u(4), backlogLimit: u(5), lost: u(6), backlog: u(7) };
}

/** AUDIT_SET of `enabled` only (mask AUDIT_STATUS_ENABLED). */
export function setEnabledPayload(enabled: number): Buffer {
  const b = Buffer.alloc(40);
  b.writeUInt32LE(AUDIT_STATUS_ENABLED, 0);
  b.writeUInt32LE(enabled, 4);
  return b;
}

/** A syscall-exit rule: `-a always,exit -F arch=<arch> -S <syscalls> [-k <key>]`. */
export interface ExitRule {
  arch?: number;
  syscalls: number[];
  key?: string;
  /** Fields other than arch and key (a narrower rule: uid, path …): not one of ours to compare. */
  otherFields: number;
  action: number;
  list: number;
}

export function encodeRule(r: { arch: number; syscalls: number[]; key: string }): Buffer {
  const key = Buffer.from(r.key, 'latin1');
  const b = Buffer.alloc(RULE_FIXED + key.length);
  b.writeUInt32LE(AUDIT_FILTER_EXIT, 0);
  b.writeUInt32LE(AUDIT_ALWAYS, 4);
  b.writeUInt32LE(2, 8);
  for (const s of r.syscalls) {
    const at = 12 + 4 * (s >> 5);
    b.writeUInt32LE((b.readUInt32LE(at) | (1 << (s & 31))) >>> 0, at);
  }
  const fields = 12 + 4 * AUDIT_BITMASK_SIZE;
  const values = fields + 4 * AUDIT_MAX_FIELDS;
  const flags = values + 4 * AUDIT_MAX_FIELDS;
  b.writeUInt32LE(AUDIT_ARCH, fields);
  b.writeUInt32LE(r.arch >>> 0, values);
  b.writeUInt32LE(AUDIT_EQUAL, flags);
  b.writeUInt32LE(AUDIT_FILTERKEY, fields + 4);
  b.writeUInt32LE(key.length, values + 4);
  b.writeUInt32LE(AUDIT_EQUAL, flags + 4);
  b.writeUInt32LE(key.length, RULE_FIXED - 4);
  key.copy(b, RULE_FIXED);
  return b;
}

/** One rule of AUDIT_LIST_RULES; undefined for a structure too short to be one. */
export function decodeRule(p: Buffer): ExitRule | undefined {
  if (p.length < RULE_FIXED) return undefined;
  const count = Math.min(p.readUInt32LE(8), AUDIT_MAX_FIELDS);
  const syscalls: number[] = [];
  for (let w = 0; w < AUDIT_BITMASK_SIZE; w++) {
    const m = p.readUInt32LE(12 + 4 * w);
    for (let bit = 0; m !== 0 && bit < 32; bit++) if ((m >>> bit) & 1) syscalls.push(w * 32 + bit);
  }
  const fields = 12 + 4 * AUDIT_BITMASK_SIZE;
  const values = fields + 4 * AUDIT_MAX_FIELDS;
  const buflen = p.readUInt32LE(RULE_FIXED - 4);
  const buf = p.subarray(RULE_FIXED, RULE_FIXED + buflen);
  let bufAt = 0;
  const rule: ExitRule = { syscalls, otherFields: 0, action: p.readUInt32LE(4), list: p.readUInt32LE(0) };
  for (let i = 0; i < count; i++) {
    const f = p.readUInt32LE(fields + 4 * i);
    const v = p.readUInt32LE(values + 4 * i);
    if (f === AUDIT_ARCH) rule.arch = v;
    else if (f === AUDIT_FILTERKEY) {
      rule.key = buf.toString('latin1', bufAt, bufAt + v);
      bufAt += v;
    } else {
      rule.otherFields++;
      // String-valued fields take their bytes from buf in field order too (audit_data_to_entry).
      if (STRING_FIELDS.has(f)) bufAt += v;
    }
  }
  return rule;
}

/** The rule with its raw bytes, as AUDIT_DEL_RULE wants it back (the kernel compares every field). */
export function ruleBytes(p: Buffer): Buffer {
  const buflen = p.length >= RULE_FIXED ? p.readUInt32LE(RULE_FIXED - 4) : 0;
  return Buffer.from(p.subarray(0, RULE_FIXED + buflen));
}
