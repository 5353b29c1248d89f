import { boundArgs } from '../../enrich/args';
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';

/**
 * What /proc tells about one process, read right when its exec is announced: every file may vanish
 * at any moment (the process exits), so each read is independent and a missing one is `undefined`.
 */
export interface ProcInfo {
  args?: string[];
  exe?: string;
  cwd?: string;
  /** Name from status (comm, 15 characters at most). */
  comm?: string;
  ppid?: number;
  uid?: number;
  euid?: number;
  gid?: number;
  /** PID in the innermost PID namespace (last NSpid entry), i.e. inside the container. */
  vpid?: number;
  /** Docker container id from the cgroup path; `null` when the cgroup is read and is not a container's. */
  container?: string | null;
  /** Start in ms since the epoch, computed like the processes collector does (see startMs). */
  start?: number;
}

const BUF = Buffer.allocUnsafe(64 * 1024);

/** One /proc file into the shared buffer; latin1 keeps bytes; undefined when it is gone. */
function readProcFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    let n = 0;
    for (;;) {
      const r = readSync(fd, BUF, n, BUF.length - n, null);
      if (r <= 0) break;
      n += r;
      if (n === BUF.length) break; // longer than 64 KiB: keep the head
    }
    return BUF.toString('latin1', 0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

// docker/<id> (cgroupfs driver, v1 and v2), docker-<id>.scope (systemd driver), nested paths too.
const CGROUP_DOCKER = /(?:\/docker\/|\/docker-)([0-9a-f]{64})(?:\.scope)?(?=\/|$)/m;

/** The Docker container id named by a /proc/<pid>/cgroup text, or null for any other cgroup. */
export function containerFromCgroup(text: string): string | null {
  const m = CGROUP_DOCKER.exec(text);
  return m ? m[1] : null;
}

/** Only the cgroup: is this process a container's? (the cheap first read for every exec) */
export function readContainer(pid: number): string | null | undefined {
  const t = readProcFile(`/proc/${pid}/cgroup`);
  return t === undefined ? undefined : containerFromCgroup(t);
}

/**
 * Reads cmdline first (what an exit race costs most), then cgroup, status, stat, exe and cwd.
 * `cgroupKnown` skips the cgroup when the caller just read it.
 */
export function readProc(pid: number, bootMs: number | undefined, cgroupKnown?: string | null): ProcInfo {
  const first = readOnce(pid, bootMs, cgroupKnown);
  if (first.info.args === undefined || !first.changed) return first.info;
  // The process exec'd again between the two reads of its stat (a shell's `exec`, setpriv
  // or gosu handing over): the command line may be one image's, the name and exe another's. A
  // benign entrypoint chain read so raised dockward-argv0-masquerade. Read again, once; still
  // moving, the command line is not trusted (as in the exit race).
  const second = readOnce(pid, bootMs, cgroupKnown);
  if (second.changed) second.info.args = undefined;
  return second.info;
}

function readOnce(pid: number, bootMs: number | undefined, cgroupKnown?: string | null): { info: ProcInfo; changed: boolean } {
  const info: ProcInfo = {};
  // stat before the command line and again after the rest: its comm changes with an exec. (Not
  // status's Name, which escapes what a container may put in a name: a tab would read as a change.)
  const stat = readProcFile(`/proc/${pid}/stat`);
  const cmdline = readProcFile(`/proc/${pid}/cmdline`);
  if (cmdline === undefined) return { info, changed: false }; // gone (the exit race): the other files are gone too
  if (cmdline.length > 0) {
    const end = cmdline.endsWith('\0') ? cmdline.length - 1 : cmdline.length;
    info.args = boundArgs(cmdline.slice(0, end).split('\0'));
  }
  if (cgroupKnown !== undefined) info.container = cgroupKnown;
  else {
    const cg = readProcFile(`/proc/${pid}/cgroup`);
    if (cg !== undefined) info.container = containerFromCgroup(cg);
  }
  if (stat !== undefined && bootMs !== undefined) info.start = startMs(stat, bootMs);
  info.exe = link(`/proc/${pid}/exe`);
  info.cwd = link(`/proc/${pid}/cwd`);
  const status = readProcFile(`/proc/${pid}/status`);
  if (status !== undefined) parseStatus(status, info);
  const after = stat === undefined ? undefined : readProcFile(`/proc/${pid}/stat`);
  return { info, changed: stat !== undefined && after !== undefined && commFromStat(stat) !== commFromStat(after) };
}

export function parseStatus(text: string, into: ProcInfo): void {
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const val = line.slice(colon + 1).trim();
    switch (key) {
      case 'Name': into.comm = val; break;
      case 'PPid': into.ppid = Number(val); break;
      case 'Uid': { const [r, e] = val.split(/\s+/); into.uid = Number(r); into.euid = Number(e); break; }
      case 'Gid': into.gid = Number(val.split(/\s+/)[0]); break;
      case 'NSpid': { const p = val.split(/\s+/); into.vpid = Number(p[p.length - 1]); break; }
    }
  }
}

/**
 * Start in ms since the epoch from /proc/<pid>/stat field 22 (clock ticks after boot, USER_HZ 100):
 * boot time + ticks × 10. The processes collector uses the same formula, so both sources name a
 * process alike.
 */
export function startMs(stat: string, bootMs: number): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? bootMs + Math.round((ticks * 1000) / 100) : undefined;
}

/** Only the start (stat): is this pid still the process the table knows? */
export function readStart(pid: number, bootMs: number | undefined): number | undefined {
  const stat = bootMs === undefined ? undefined : readProcFile(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : startMs(stat, bootMs!);
}

/**
 * Whether `pid` still runs: not gone, and not a zombie either. A SIGKILLed audit reader whose
 * dockward was killed too stays a zombie until something reaps it, and its audit rules were kept
 * as a live process's (CI at 9d72d54: the next start left them).
 */
export function running(pid: number): boolean {
  const stat = readProcFile(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

/** comm from /proc/<pid>/stat, between the first '(' and the last ')'. */
export function commFromStat(stat: string): string {
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** The same start from a kernel timestamp (CLOCK_MONOTONIC ns), when /proc was gone: ticks are floored like the kernel's. */
export function startMsFromKernelTs(tsNs: bigint, bootMs: number): number {
  return bootMs + Number(tsNs / 10_000_000n) * 10;
}

/** Boot time in ms since the epoch (`btime` of /proc/stat, whole seconds). */
export function bootTimeMs(): number | undefined {
  const t = readProcFile('/proc/stat');
  const m = t ? /^btime (\d+)$/m.exec(t) : null;
  return m ? Number(m[1]) * 1000 : undefined;
}

/** Every process (thread group) id in /proc now. */
export function listPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}
