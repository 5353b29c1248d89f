import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Busy loops beside a drill, as a loaded host would have: each a process spinning on one core,
 * ending by itself after `ms` so a crashed test run cannot leave them behind.
 */
export class BusyCores {
  private readonly procs: ChildProcess[];

  constructor(n: number, ms = 600_000) {
    this.procs = Array.from({ length: n }, () =>
      spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end);`], { stdio: 'ignore' }),
    );
  }

  stop(): void {
    for (const p of this.procs) p.kill('SIGKILL');
  }
}
