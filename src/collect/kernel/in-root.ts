import { constants, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Linux's O_PATH (not in fs.constants; 010000000 on every architecture Node ships for but alpha,
 * parisc and sparc): a handle on a name that opens nothing, so no FIFO waits for a writer and no
 * device driver's open runs (a planted /dev/watchdog node would arm the host's watchdog).
 */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY } = constants;
const CHUNK = 64 * 1024;
/** Components walked at most, symlink targets included (each holds one handle until the end). */
const MAX_STEPS = 64;

/**
 * Kernel file systems whose "regular files" have no real size and may act on read (procfs, sysfs,
 * debugfs, tracefs, securityfs, cgroup v1/v2, configfs, bpffs, efivarfs, pstore): never a passwd.
 */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0x62656570, 0xcafe4a11, 0xde5e81e4, 0x6165676c]);

/**
 * Why a file could not be read: the process is gone (or its pid now names another process), the
 * path does not exist, the file is not a plain file (FIFO, device, socket, kernel file), it is
 * larger than allowed, a symlink climbs above the root or too many symlinks; 'error' for the rest.
 * 'special', 'too-big', 'escape' and 'loop' are what a planted file gives (TAMPER_REASONS).
 */
export type InRootFailure = 'gone' | 'absent' | 'special' | 'too-big' | 'escape' | 'loop' | 'error';
export const TAMPER_REASONS: ReadonlySet<InRootFailure> = new Set(['special', 'too-big', 'escape', 'loop']);

export type InRootResult = { ok: true; data: Buffer } | { ok: false; reason: InRootFailure; detail: string };

export interface InRootOptions {
  /** Largest file read; a larger one (by its size, or by what reading it gives) is 'too-big'. */
  maxBytes: number;
  /** Symlinks followed at most, each resolved inside the root. */
  maxHops: number;
  /** Called once the root is held: false when the pid no longer is the process meant (reused). */
  verify?: () => Promise<boolean>;
}

const via = (h: FileHandle, name?: string) => (name === undefined ? `/proc/self/fd/${h.fd}` : `/proc/self/fd/${h.fd}/${name}`);
const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
const parts = (p: string) => p.split('/').filter((c) => c !== '' && c !== '.');

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * Reads `path` as a process whose root is `root` (`/proc/<pid>/root`) would see it, and only a
 * plain file of at most `maxBytes`. Each component is looked up in the directory handle reached
 * so far (`/proc/self/fd/<dir>/<name>`, O_PATH|O_NOFOLLOW, so nothing is opened and no symlink is
 * followed by the kernel); a symlink's target is walked by hand, an absolute one from the
 * container's root and never the host's, `..` never above the root. The last component is
 * checked (fstat, statfs) before the same inode is opened for reading (O_RDONLY|O_NONBLOCK
 * through its handle), and at most maxBytes + 1 are read. Never throws; all async (libuv's pool),
 * so the caller's event loop is not held even where a file system stalls.
 */
export async function readInRoot(root: string, path: string, opts: InRootOptions): Promise<InRootResult> {
  const held: FileHandle[] = [];
  const fail = (reason: InRootFailure, detail: string): InRootResult => ({ ok: false, reason, detail });
  try {
    let top: FileHandle;
    try {
      top = await fsp.open(root, O_PATH | O_DIRECTORY);
    } catch (err) {
      const c = code(err);
      return fail(c === 'ENOENT' || c === 'ESRCH' ? 'gone' : 'error', `${root}: ${c}`);
    }
    held.push(top);
    if (opts.verify && !(await opts.verify())) return fail('gone', `${root}: the pid names another process now`);
    const dirs: FileHandle[] = [top]; // from the root down to the directory being looked in
    const todo = parts(path);
    let hops = 0;
    for (let steps = 0; todo.length > 0; steps++) {
      if (steps >= MAX_STEPS) return fail('loop', `/${path}: more than ${MAX_STEPS} path components`);
      const name = todo.shift()!;
      if (name === '..') {
        if (dirs.length === 1) return fail('escape', `/${path}: a symlink climbs above the container's root`);
        dirs.pop();
        continue;
      }
      const dir = dirs[dirs.length - 1];
      let h: FileHandle;
      try {
        h = await fsp.open(via(dir, name), O_PATH | O_NOFOLLOW);
      } catch (err) {
        const c = code(err);
        return fail(c === 'ENOENT' || c === 'ENOTDIR' || c === 'ENAMETOOLONG' ? 'absent' : 'error', `/${path}: ${c}`);
      }
      held.push(h);
      const st = await h.stat();
      if (st.isSymbolicLink()) {
        if (++hops > opts.maxHops) return fail('loop', `/${path}: more than ${opts.maxHops} symlinks`);
        const target = await fsp.readlink(via(dir, name));
        if (target.startsWith('/')) dirs.length = 1; // the container's root, not dockward's
        todo.unshift(...parts(target));
        continue;
      }
      if (todo.length > 0) {
        if (!st.isDirectory()) return fail('absent', `/${path}: ${name} is not a directory`);
        dirs.push(h);
        continue;
      }
      if (!st.isFile()) return fail('special', `/${path} is ${kindOf(st)}`);
      if (st.size > opts.maxBytes) return fail('too-big', `/${path} is ${st.size} bytes (at most ${opts.maxBytes} read)`);
      const fs = await fsp.statfs(via(h));
      if (PSEUDO_FS.has(fs.type)) return fail('special', `/${path} is on a kernel file system (0x${fs.type.toString(16)})`);
      // The very inode just checked (the name may have been swapped since): reopened through its handle.
      const r = await fsp.open(via(h), O_RDONLY | O_NONBLOCK | O_NOCTTY);
      held.push(r);
      const rs = await r.stat();
      if (!rs.isFile() || rs.ino !== st.ino || rs.dev !== st.dev) return fail('error', `/${path} changed while opened`);
      return await readCapped(r, opts.maxBytes, path);
    }
    return fail('absent', `/${path}: the root itself`);
  } catch (err) {
    return fail('error', `/${path}: ${code(err)}`);
  } finally {
    await Promise.all(held.map((h) => h.close().catch(() => undefined)));
  }
}

/** At most max + 1 bytes, whatever the size said (a file may grow while read). */
async function readCapped(h: FileHandle, max: number, path: string): Promise<InRootResult> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total <= max) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, max + 1 - total));
    const { bytesRead } = await h.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    total += bytesRead;
  }
  if (total > max) return { ok: false, reason: 'too-big', detail: `/${path} grew past ${max} bytes while read` };
  return { ok: true, data: Buffer.concat(chunks, total) };
}
