/**
 * Reading and writing dockward's state files (cursors.json, anomaly-models/) as untrusted,
 * private files:
 * - directories are created 0700 and files 0600, whatever the umask;
 * - a temporary file is created here (O_CREAT|O_EXCL|O_NOFOLLOW), never opened through a symlink
 *   or over a file someone else placed; it is written, fsync'd and renamed over the old file;
 * - a state file is read without following a symlink or blocking on a FIFO, only when it is a
 *   regular file under a size cap; what it holds is the caller's to validate (zod);
 * - a file that cannot be used is moved aside (`<name>.corrupt-<timestamp>`), so the next start
 *   does not trip over it again and the operator still has it to look at.
 */
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { ZodError } from 'zod';
import { DockwardError } from '../errors';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
const { O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = constants;
/** Open flags of a file dockward creates: new, never through a symlink. */
export const NEW_FILE = O_CREAT | O_EXCL | O_NOFOLLOW;

/** A state file that is there but cannot be used: not a regular file, too large, not what it should hold. */
export class StateFileError extends DockwardError {
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super('STATE_FILE_INVALID', message, options);
  }
}

/**
 * Creates `dir` and its missing parents 0700. `own`: the directory is dockward's alone (the
 * spool), so an existing one is set to 0700 too. Returns the mode of a directory that group or
 * others can still reach (one dockward did not create), for the caller to warn about.
 */
export function privateDir(dir: string, own = false): number | undefined {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const mode = statSync(dir).mode & 0o777;
  if (!(mode & 0o077)) return undefined;
  if (!own) return mode;
  // Only the owner may change a mode: a directory dockward does not own is reported instead.
  try {
    chmodSync(dir, DIR_MODE);
    return undefined;
  } catch {
    return mode;
  }
}

/**
 * The text of a state file, or undefined when there is none. Throws StateFileError when the file
 * is there but is a symlink, not a regular file, over `maxBytes`, or unreadable. A file that group
 * or others could read (written by an earlier version) is set to 0600.
 */
export function readStateFile(path: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new StateFileError(path, code === 'ELOOP' ? 'a symbolic link, not a regular file' : `cannot open: ${(err as Error).message}`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new StateFileError(path, 'not a regular file');
    if (st.size > maxBytes) throw new StateFileError(path, `${st.size} bytes, over the ${maxBytes}-byte cap`);
    if (st.mode & 0o077) {
      try {
        fchmodSync(fd, FILE_MODE);
      } catch {
        // a read-only file system: reading still works
      }
    }
    // Up to one byte past the cap, so a file that grew since fstat is still refused.
    const buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(st.size, 4096)));
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
      if (n === buf.length) {
        if (n > maxBytes) throw new StateFileError(path, `over the ${maxBytes}-byte cap`);
        break;
      }
    }
    return buf.toString('utf8', 0, n);
  } catch (err) {
    if (err instanceof StateFileError) throw err;
    throw new StateFileError(path, `cannot read: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves an unusable state file aside as `<path>.corrupt-<UTC timestamp>`; returns the new path,
 * or undefined when even that failed (the next write replaces the file anyway).
 */
export function quarantine(path: string, now = new Date()): string | undefined {
  const aside = `${path}.corrupt-${now.toISOString().replace(/[-:.]/g, '')}`;
  try {
    renameSync(path, aside);
    return aside;
  } catch {
    return undefined;
  }
}

/** Writes `data` to `path` atomically: a new 0600 temporary file, fsync, rename. */
export function writeStateFile(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, O_WRONLY | NEW_FILE, FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Left by a crash, or placed there (a symlink is removed, never followed): start it anew.
    unlinkSync(tmp);
    fd = openSync(tmp, O_WRONLY | NEW_FILE, FILE_MODE);
  }
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off, off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    // a partial file would hold the space a full disk needs back
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** The first zod issue as `path: message`, for a one-line reason. */
export function zodReason(err: ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid';
  const where = i.path.length ? i.path.map(String).join('.') : '(root)';
  return `${where}: ${i.message}${err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : ''}`;
}
