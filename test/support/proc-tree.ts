import { readdirSync, readFileSync } from 'node:fs';

/**
 * dockward runs its kernel reader in a child process (src/collect/kernel/reader.ts): what dockward
 * costs is its whole process tree, so memory and CPU figures sum the process and its descendants.
 */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue; // gone
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${t}/children`, 'latin1').split(' ')) if (c.trim()) out.push(Number(c));
      } catch {
        // gone
      }
    }
  }
  return out;
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the tree, MB (`VmHWM`: the sum of each process's own peak, an upper bound of the tree's). */
export function treeMemoryMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  return processTree(pid).reduce((a, p) => a + statusKb(p, field), 0) / 1024;
}

/** utime + stime of the tree's live processes, and of the children the root reaped (cutime, cstime), seconds. */
export function treeCpuSec(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += (Number(f[11]) + Number(f[12]) + (p === pid ? Number(f[13]) + Number(f[14]) : 0)) / 100;
    } catch {
      // gone
    }
  }
  return sum;
}
