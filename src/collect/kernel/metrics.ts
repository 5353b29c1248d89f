import { Counter, Gauge } from 'prom-client';
import type { CollectorContext } from '../collector';
import { probeKernelEvents } from './netlink';
import { isAck } from './source';

/** A metric of the registry by name, made once: collectors restart, their metrics stay. */
export function metricMaker(ctx: CollectorContext) {
  const registers = [ctx.telemetry.registry];
  const get = <T>(name: string, make: () => T): T => (ctx.telemetry.registry.getSingleMetric(name) as T | undefined) ?? make();
  return { r: registers, get };
}

/** The kernel collector's Prometheus metrics (one set per registry, shared by restarts). */
export function metrics(ctx: CollectorContext) {
  const { r, get } = metricMaker(ctx);
  return {
    datagrams: get('dockward_kernel_datagrams_total', () => new Counter({ name: 'dockward_kernel_datagrams_total', help: 'Datagrams read from the process-events connector', registers: r })),
    documents: get('dockward_kernel_documents_total', () => new Counter({ name: 'dockward_kernel_documents_total', help: 'Process documents sent', labelNames: ['type'], registers: r })),
    execs: get('dockward_kernel_execs_total', () => new Counter({ name: 'dockward_kernel_execs_total', help: 'Container execs: /proc read, lost to the exit race, gone before attribution; and starts without exec: busybox applets (noexec), forks (fork_only)', labelNames: ['result'], registers: r })),
    evicted: get('dockward_kernel_evicted_total', () => new Counter({ name: 'dockward_kernel_evicted_total', help: 'Processes evicted from the full process table', registers: r })),
    overruns: get('dockward_kernel_overruns_total', () => new Counter({ name: 'dockward_kernel_overruns_total', help: 'Times the kernel dropped events (ENOBUFS)', registers: r })),
    reused: get('dockward_kernel_pid_reuse_total', () => new Counter({ name: 'dockward_kernel_pid_reuse_total', help: 'Processes whose exit the kernel dropped, found when a new process took their pid (ended without exit code)', registers: r })),
    resyncs: get('dockward_kernel_resyncs_total', () => new Counter({ name: 'dockward_kernel_resyncs_total', help: 'Resyncs of the process table from /proc', registers: r })),
    dropped: get('dockward_kernel_dropped_total', () => new Counter({ name: 'dockward_kernel_dropped_total', help: 'Facts dropped because too many waited for container metadata', registers: r })),
    folded: get('dockward_kernel_folded_total', () => new Counter({ name: 'dockward_kernel_folded_total', help: 'Process facts over a container\'s document budget: starts folded into an identical start\'s document, ends of folded starts, distinct starts dropped', labelNames: ['result'], registers: r })),
    rcvbuf: get('dockward_kernel_receive_buffer_bytes', () => new Gauge({ name: 'dockward_kernel_receive_buffer_bytes', help: 'Socket receive buffer granted by the kernel', registers: r })),
    table: get('dockward_kernel_process_table', () => new Gauge({ name: 'dockward_kernel_process_table', help: 'Processes in the kernel collector table', registers: r })),
    heap: get('dockward_kernel_reader_heap_bytes', () => new Gauge({ name: 'dockward_kernel_reader_heap_bytes', help: 'The kernel reader process\'s memory: resident (rss), V8 heap used and total, external (Buffers)', labelNames: ['kind'], registers: r })),
    restarts: get('dockward_kernel_reader_restarts_total', () => new Counter({ name: 'dockward_kernel_reader_restarts_total', help: 'Times the kernel reader process died and was restarted', registers: r })),
    available: get('dockward_kernel_available', () => new Gauge({ name: 'dockward_kernel_available', help: '1 when kernel process events run', registers: r })),
  };
}

/**
 * `dockward check`'s line about kernel process events. `auto` and `true` both probe (subscribe
 * and wait for the kernel's acknowledgement); only `true` calls a failed probe a problem.
 */
export async function kernelCheckLine(cfg: { enabled: boolean | 'auto' }): Promise<string> {
  if (cfg.enabled === false) return 'kernel process events disabled (collectors.kernel.enabled: false); processes are seen by top polling only';
  const why = await probeKernelEvents(isAck);
  if (!why) return `kernel process events ok (netlink process connector subscribed${cfg.enabled === 'auto' ? '; collectors.kernel.enabled: auto' : ''})`;
  return cfg.enabled === true
    ? `kernel process events UNAVAILABLE although collectors.kernel.enabled is true: ${why}; processes are seen by top polling only`
    : `kernel process events off: ${why}; processes are seen by top polling only (collectors.kernel.enabled: auto)`;
}
