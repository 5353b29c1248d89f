/**
 * What the connections collector reads from the host's /proc besides the socket tables: who holds
 * a socket (the fd walk), a process's identity, namespace links, cgroup process lists, the boot
 * time. Every read tolerates a process or container vanishing mid-read (undefined, never a throw).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { exePath, processName } from './process-identity';

/** Owners kept per socket (a socket inherited by a whole worker pool would otherwise list them all). */
export const MAX_OWNERS = 8;

export interface Owner {
  pid: number;
  name: string;
  executable?: string;
  args?: string[];
  command_line?: string;
  start?: string;
  ppid?: number;
  parentName?: string;
  uid?: number;
  /** The container whose cgroup holds the process, when known. */
  container?: string;
}

/**
 * socket inode → the processes holding it: the fds of every process in the namespace's containers
 * (each container's cgroup.procs; a /proc scan by namespace when a container's list is not
 * readable). A process that exits mid-walk is skipped.
 */
export function socketOwners(containers: Array<{ id: string; pids: number[] | undefined }>, nsKey: string, wanted: Set<number>, bootMs: number | undefined): Map<number, Owner[]> {
  const found = new Map<number, Owner[]>();
  const info = new Map<number, Owner | null>();
  const visit = (pid: number, container: string | undefined) => {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return;
    }
    for (const fd of fds) {
      let l: string;
      try {
        l = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!l.startsWith('socket:[')) continue;
      const inode = Number(l.slice(8, -1));
      if (!wanted.has(inode)) continue;
      let o = info.get(pid);
      if (o === undefined) {
        o = readOwner(pid, container, bootMs) ?? null;
        info.set(pid, o);
      }
      if (!o) return;
      const list = found.get(inode);
      if (!list) found.set(inode, [o]);
      else if (list.length < MAX_OWNERS && !list.includes(o)) list.push(o);
    }
  };
  const seen = new Set<number>();
  let scanned = false;
  for (const c of containers) {
    if (!c.pids) {
      if (!scanned) {
        scanned = true;
        for (const pid of pidsInNamespace(nsKey)) {
          if (seen.has(pid)) continue;
          seen.add(pid);
          visit(pid, undefined);
        }
      }
      continue;
    }
    for (const pid of c.pids) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      visit(pid, c.id);
    }
  }
  // Lowest pid first: usually the process that opened the socket, before children inherited it.
  for (const list of found.values()) list.sort((a, b) => a.pid - b.pid);
  return found;
}

/** The process behind a pid, read now; undefined when it exited. */
export function readOwner(pid: number, container: string | undefined, bootMs: number | undefined): Owner | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const ticks = Number(fields[19]);
  const o: Owner = { pid, name: comm, ppid, container };
  if (bootMs !== undefined && Number.isFinite(ticks)) o.start = new Date(bootMs + Math.round((ticks * 1000) / 100)).toISOString();
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = (raw.endsWith('\0') ? raw.slice(0, -1) : raw).split('\0');
    if (raw.length > 0) {
      o.args = args;
      o.command_line = args.join(' ');
    }
  } catch {
    /* exited: keep comm */
  }
  let exe: string | undefined;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
    o.executable = exePath(exe);
  } catch {
    /* a kernel thread, or gone */
  }
  // The kernel's name, comm completed past its 15 characters; a comm the process rewrote since its
  // exec (`echo -n nginx > /proc/$$/comm`) names neither argv[0] nor the file: then the file's name.
  o.name = processName({ args: o.args, comm, exe }, 'running') ?? comm;
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    if (m) o.uid = Number(m[1]);
  } catch {
    /* gone */
  }
  if (ppid > 0) {
    try {
      const ps = readFileSync(`/proc/${ppid}/stat`, 'latin1');
      o.parentName = ps.slice(ps.indexOf('(') + 1, ps.lastIndexOf(')'));
    } catch {
      /* gone */
    }
  }
  return o;
}

/**
 * Which tables of the namespace of `pid` hold sockets, from its own counters (inuse per protocol;
 * TIME_WAIT, counted for v4 and v6 together, makes both TCP tables worth reading). Undefined when
 * the counters are not readable: then every table is read.
 */
export function socketCounts(pid: number): Record<string, boolean> | undefined {
  try {
    const v4 = readFileSync(`/proc/${pid}/net/sockstat`, 'latin1');
    const v6 = readFileSync(`/proc/${pid}/net/sockstat6`, 'latin1');
    const num = (text: string, re: RegExp) => {
      const m = re.exec(text);
      if (!m) throw new Error('unknown sockstat format');
      return Number(m[1]);
    };
    const tw = num(v4, /^TCP: .*\btw (\d+)/m);
    return {
      tcp: num(v4, /^TCP: inuse (\d+)/m) + tw > 0,
      tcp6: num(v6, /^TCP6: inuse (\d+)/m) + tw > 0,
      udp: num(v4, /^UDP: inuse (\d+)/m) > 0,
      udp6: num(v6, /^UDP6: inuse (\d+)/m) > 0,
    };
  } catch {
    return undefined;
  }
}

export function nsLink(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

export function procCgroupHas(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'latin1').includes(id);
  } catch {
    return false;
  }
}

/**
 * cgroup.procs of the cgroup holding `pid`: v1 hierarchies (pids first, then any) under
 * /sys/fs/cgroup/<controller>, the v2 one at /sys/fs/cgroup or /sys/fs/cgroup/unified.
 */
export function cgroupProcsPath(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'latin1');
  } catch {
    return undefined;
  }
  const first: string[] = [];
  const rest: string[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctrls = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (path === '/' || path === '') continue;
    if (ctrls === '') rest.push(`/sys/fs/cgroup${path}/cgroup.procs`, `/sys/fs/cgroup/unified${path}/cgroup.procs`);
    else {
      const names = ctrls.split(',').map((c) => c.replace(/^name=/, ''));
      const dirs = [names.join(','), ...names].map((d) => `/sys/fs/cgroup/${d}${path}/cgroup.procs`);
      (names.includes('pids') ? first : rest).push(...dirs);
    }
  }
  for (const p of [...first, ...rest]) {
    try {
      readFileSync(p, 'latin1');
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Every pid whose network namespace is `nsKey` (the fallback when no cgroup file is readable). */
function pidsInNamespace(nsKey: string): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    if (nsLink(Number(n)) === nsKey) out.push(Number(n));
  }
  return out;
}

export function bootTimeMs(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Why connections cannot be read here, or undefined. */
export function connectionsBlocker(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform}): no /proc socket tables`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root: the socket tables and file descriptors of container processes are readable by root only';
  try {
    readlinkSync('/proc/self/ns/net');
    readFileSync('/proc/self/net/tcp', 'latin1');
  } catch (err) {
    return `cannot read /proc/self/ns/net or /proc/self/net/tcp (${(err as NodeJS.ErrnoException).code}): no usable /proc`;
  }
  return undefined;
}
