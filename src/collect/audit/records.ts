/**
 * One kernel audit record's text, as the kernel formats it (kernel/audit.c, auditsc.c):
 *
 *   audit(<sec>.<ms>:<serial>): key=value key="quoted" key=48455820 …
 *
 * Every record of one event shares the `audit(…)` stamp. Strings a process controls (comm, exe,
 * cwd, names, arguments) are written quoted when they hold only printable characters other than
 * `"` and space, else as hex of their bytes (audit_log_untrustedstring); "(null)" when absent.
 * Pure and allocation-light: it runs on the reader thread for every record of the host.
 */

export const AUDIT_SYSCALL = 1300;
export const AUDIT_PATH = 1302;
export const AUDIT_CWD = 1307;
export const AUDIT_EXECVE = 1309;
export const AUDIT_EOE = 1320;
export const AUDIT_PROCTITLE = 1327;

/** The kernel never writes a record longer than this (MAX_AUDIT_MESSAGE_LENGTH); a longer one is not its. */
export const MAX_RECORD_BYTES = 8970;
/** Fields of one record taken: an EXECVE record of empty arguments holds ~1,500. */
export const MAX_FIELDS = 2048;

export interface AuditRecord {
  type: number;
  /** ms since the epoch (the stamp's seconds and milliseconds). */
  time: number;
  serial: number;
  /** Values as written: quoted ones with their quotes, so `untrusted` can tell them from hex. */
  fields: Map<string, string>;
}

const STAMP = /^audit\((\d{1,12})\.(\d{3}):(\d{1,20})\):\s?/;

/** undefined when the text does not start with an audit stamp, or is longer than the kernel writes. */
export function parseRecord(type: number, text: string): AuditRecord | undefined {
  if (text.length > MAX_RECORD_BYTES) return undefined;
  const m = STAMP.exec(text);
  if (!m) return undefined;
  const fields = new Map<string, string>();
  let i = m[0].length;
  const n = text.length;
  while (i < n && fields.size < MAX_FIELDS) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq);
    let end: number;
    const q = text.charCodeAt(eq + 1);
    if (q === 34 || q === 39) {
      // A quoted value ends at its closing quote (the kernel quotes only strings without one).
      const close = text.indexOf(q === 34 ? '"' : "'", eq + 2);
      end = close < 0 ? n : close + 1;
    } else {
      const sp = text.indexOf(' ', eq + 1);
      end = sp < 0 ? n : sp;
    }
    fields.set(key, text.slice(eq + 1, end));
    i = end;
  }
  return { type, time: Number(m[1]) * 1000 + Number(m[2]), serial: Number(m[3]), fields };
}

/**
 * A process-controlled string: quoted text, or hex of its bytes. Bytes become characters one to
 * one (latin1), as the /proc reads do (procfs.ts), so both sources give a process the same args.
 * undefined for "(null)", for hex that is not hex, or for an absent field.
 */
export function untrusted(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '(null)') return undefined;
  if (raw.length >= 2 && raw.charCodeAt(0) === 34 && raw.charCodeAt(raw.length - 1) === 34) return raw.slice(1, -1);
  if (raw.length % 2 !== 0) return undefined;
  // Decoding stops at the first pair that is not hex: one pass checks and decodes (a regex test
  // first cost as much again on 64 KiB arguments under an exec flood).
  const bytes = Buffer.from(raw, 'hex');
  return bytes.length * 2 === raw.length ? bytes.toString('latin1') : undefined;
}

/** A decimal field; undefined when absent or not a number (uid=4294967295 is "unset", kept as is). */
export function num(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  return Number.isSafeInteger(v) ? v : undefined;
}

/** The arguments one EXECVE record holds, in order: whole ones (aN) and chunks of split ones (aN[k]). */
export function execveParts(r: AuditRecord, each: (index: number, chunk: number | undefined, value: string | undefined, len?: number) => void): void {
  for (const [k, v] of r.fields) {
    if (k.charCodeAt(0) !== 97 /* a */) continue;
    const br = k.indexOf('[');
    if (br > 0) {
      const idx = Number(k.slice(1, br));
      const chunk = Number(k.slice(br + 1, -1));
      if (Number.isInteger(idx) && Number.isInteger(chunk)) each(idx, chunk, untrusted(v));
      continue;
    }
    if (k.endsWith('_len')) {
      const idx = Number(k.slice(1, -4));
      if (Number.isInteger(idx)) each(idx, -1, undefined, num(v));
      continue;
    }
    if (k === 'argc') continue;
    const idx = Number(k.slice(1));
    if (Number.isInteger(idx)) each(idx, undefined, untrusted(v));
  }
}
