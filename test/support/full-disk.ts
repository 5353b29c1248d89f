import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small file system to fill up, standing for a host disk a container filled (the security
 * review's m8-enospc.sh): a 256 KiB tmpfs. Mounting needs root; `skip` says why a test cannot run.
 */
export const fullDiskSkip: string | false = process.getuid?.() !== 0 && 'needs root to mount a tmpfs';

export function mountSmall(prefix: string): { dir: string; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', dir]);
  return {
    dir,
    unmount: () => {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        // a descriptor a failed test left open: detach now, the kernel frees it once closed
        execFileSync('umount', ['-l', dir]);
      }
      rmdirSync(dir);
    },
  };
}

/** Writes zeros into `path` until the file system refuses: the disk is full. */
export function fill(path: string, max = Infinity): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (let n = 0; n < max; n += block.length) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

/** Resolves once `cond` holds, polling; rejects naming `what` after `ms`. */
export async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
