import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { KernelSource, type SourceOptions } from './source';

/**
 * The kernel source on a thread of its own. Messages to the collector:
 *   { kind: 'ready', added, receiveBuffer } | { kind: 'unavailable', reason }
 *   { kind: 'facts', facts } | { kind: 'notice', notice } | { kind: 'stats', stats }
 * and from it: { kind: 'stop' } (answers with a last 'stats', then exits).
 */
const port = parentPort!;
const opts = workerData as SourceOptions & { nice: number };
// This thread only: on Linux setpriority(PRIO_PROCESS, tid) applies to one thread. A process that
// lives a millisecond is read only if this thread runs at once, also while the host is busy.
let tid = 0;
try {
  tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (opts.nice !== 0 && tid > 0) setPriority(tid, opts.nice);
} catch (err) {
  port.postMessage({ kind: 'notice', notice: { name: 'kernel.nice.failed', level: 'debug', message: `kernel process events: reader priority unchanged: ${(err as Error).message}` } });
}
const source = new KernelSource(
  opts,
  (facts) => port.postMessage({ kind: 'facts', facts }),
  (notice) => {
    // With audit running, argv, executable and directory no longer race the exit: the raised
    // priority would only starve the main thread under an exec flood (M2: /health 1.4 s → 0.3 s).
    if (notice.name === 'audit.started' && opts.nice < 0 && tid > 0) {
      try {
        setPriority(tid, 0);
      } catch {
        // kept raised: a cost, not a failure
      }
    }
    port.postMessage({ kind: 'notice', notice });
  },
);
const statsTimer = setInterval(() => port.postMessage({ kind: 'stats', stats: source.stats }), 1000);
port.on('message', (m: { kind: string }) => {
  if (m.kind !== 'stop') return;
  clearInterval(statsTimer);
  // The audit rules come out before the thread ends (audit/rules.ts remove).
  void source.stop().finally(() => {
    port.postMessage({ kind: 'stats', stats: source.stats });
    port.close();
  });
});
source.start().then(
  (r) => port.postMessage({ kind: 'ready', ...r }),
  (err: Error) => {
    clearInterval(statsTimer);
    port.postMessage({ kind: 'unavailable', reason: err.message });
    port.close();
  },
);
