/**
 * The kernel's socket tables, /proc/<pid>/net/{tcp,tcp6,udp,udp6}, as the network namespace of
 * <pid> sees them. One line per socket:
 *
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode …
 *    0: 0100007F:115C 0100007F:D6BE 01 00000000:00000000 00:00000000 00000000     0        0 748826 …
 *
 * Addresses are the raw in-memory words printed in hex: an IPv4 address is one 32-bit word (so
 * 127.0.0.1 on a little-endian host reads 0100007F), an IPv6 address four of them; ports are
 * big-endian hex. `inode` is the socket's inode (`socket:[N]` under /proc/<pid>/fd), 0 for a
 * socket no process holds (TIME_WAIT, a connection still in a listener's accept queue).
 */

export type Transport = 'tcp' | 'udp';

export interface RawSocket {
  transport: Transport;
  /** `local_address rem_address` exactly as printed: the diff key, decoded only when needed. */
  key: string;
  local: string;
  remote: string;
  /** Hex state code, e.g. '01' (ESTABLISHED), '0A' (LISTEN), '07' (CLOSE: an unconnected UDP socket). */
  st: string;
  uid: number;
  inode: number;
  /** TIME_WAIT only: time left before the kernel drops it (tm->when, clock ticks of 10 ms). */
  timerMs?: number;
}

export const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING', '0C': 'NEW_SYN_RECV',
};

/**
 * Every socket line of one table. Lines are split by hand (no regex, no per-field arrays): a
 * container with tens of thousands of sockets is read every few seconds. A malformed line is skipped.
 */
export function parseProcNet(text: string, transport: Transport): RawSocket[] {
  const out: RawSocket[] = [];
  let pos = text.indexOf('\n') + 1; // header
  const n = text.length;
  while (pos > 0 && pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const s = parseLine(text, pos, end, transport);
    if (s) out.push(s);
    pos = end + 1;
  }
  return out;
}

function parseLine(text: string, start: number, end: number, transport: Transport): RawSocket | undefined {
  // Fields: 0 sl, 1 local, 2 remote, 3 st, 4 tx:rx, 5 tr:when, 6 retrnsmt, 7 uid, 8 timeout, 9 inode
  const f: string[] = [];
  let i = start;
  while (f.length < 10 && i < end) {
    while (i < end && text.charCodeAt(i) === 32) i++;
    const s = i;
    while (i < end && text.charCodeAt(i) !== 32) i++;
    if (i > s) f.push(text.slice(s, i));
  }
  if (f.length < 10 || f[1].indexOf(':') < 0 || f[2].indexOf(':') < 0) return undefined;
  const inode = Number(f[9]);
  const uid = Number(f[7]);
  if (!Number.isFinite(inode) || !Number.isFinite(uid)) return undefined;
  const st = f[3].toUpperCase();
  const out: RawSocket = { transport, key: `${transport} ${f[1]} ${f[2]}`, local: f[1], remote: f[2], st, uid, inode };
  if (st === '06') {
    const when = parseInt(f[5].slice(f[5].indexOf(':') + 1), 16);
    if (Number.isFinite(when)) out.timerMs = when * 10;
  }
  return out;
}

export interface Endpoint {
  ip: string;
  port: number;
}

/** `0100007F:115C` → 127.0.0.1:4444; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is given as IPv4. */
export function decodeEndpoint(raw: string): Endpoint {
  const colon = raw.indexOf(':');
  const hex = raw.slice(0, colon);
  const port = parseInt(raw.slice(colon + 1), 16);
  return { ip: hex.length === 8 ? ipv4(hex, 0) : ipv6(hex), port };
}

/** One 32-bit word printed in host order (little-endian): bytes come out reversed. */
function ipv4(hex: string, at: number): string {
  const b = (k: number) => parseInt(hex.slice(at + k, at + k + 2), 16);
  return `${b(6)}.${b(4)}.${b(2)}.${b(0)}`;
}

function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) for (let k = 6; k >= 0; k -= 2) bytes.push(parseInt(hex.slice(w * 8 + k, w * 8 + k + 2), 16));
  // ::ffff:a.b.c.d
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push((bytes[g * 2] << 8) | bytes[g * 2 + 1]);
  return compressIpv6(groups);
}

/** RFC 5952 text: lower case, the longest run (≥ 2) of zero groups as "::". */
function compressIpv6(groups: number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** 127.0.0.0/8, ::1 */
export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/** 0.0.0.0, :: */
export function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}
