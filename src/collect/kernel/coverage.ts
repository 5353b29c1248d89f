import type { CollectorContext } from '../collector';

/**
 * Which processes the kernel collector answers for, so `top` polling leaves them alone.
 *
 * Why: both sources name a process alike (processDocId), and the first document to arrive holds
 * the id. A poll that catches a forked child between its fork and its exec sees the parent's
 * command line under the child's pid and start time: had polling written it, the kernel's correct
 * document would have become the 409. So while the kernel is subscribed and has not lost events,
 * polling writes nothing for a process that started after the subscription; it still covers what
 * was running before (its first snapshot), and everything while the kernel is unavailable or
 * resyncing after an overrun.
 *
 * One per collector context (one per running pipeline): the kernel collector and the processes
 * collector of the same `dockward run` share it; a test running two pipelines in one process does
 * not mix them.
 */
export class KernelCoverage {
  /** Subscription instant on the start-time scale (boot time + 10 ms ticks), or undefined: not covering. */
  private since: number | undefined;
  private healthy = false;

  /** Called once the kernel acknowledged the subscription. */
  subscribed(sinceStartMs: number): void {
    this.since = sinceStartMs;
    this.healthy = true;
  }

  /** The kernel dropped events (resync pending) or came back after its resync. */
  setHealthy(ok: boolean): void {
    this.healthy = ok;
  }

  stopped(): void {
    this.since = undefined;
    this.healthy = false;
  }

  get covering(): boolean {
    return this.since !== undefined && this.healthy;
  }

  /**
   * True when the kernel documents this process, so polling must not. An exact start (from
   * /proc/<pid>/stat, the kernel's own formula) is compared with the subscription; a process in
   * its own 10 ms tick is left to both (same id: at worst a 409). An inexact one, while the kernel
   * runs (so dockward sees the host's PIDs), is a process gone or re-exec'd between `top` and the
   * /proc read, e.g. a reaped `[grep] <defunct>`: its etimes-based start would make another id,
   * and the kernel has it.
   */
  owns(startMs: number, exact: boolean): boolean {
    return this.covering && (!exact || startMs > this.since!);
  }
}

const byContext = new WeakMap<CollectorContext, KernelCoverage>();

export function kernelCoverage(ctx: CollectorContext): KernelCoverage {
  let c = byContext.get(ctx);
  if (!c) byContext.set(ctx, (c = new KernelCoverage()));
  return c;
}
