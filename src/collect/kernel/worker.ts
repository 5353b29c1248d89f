import { parentPort, workerData } from 'node:worker_threads';
import { KernelSource, type SourceOptions } from './source';

/**
 * The kernel source on a thread of its own. Messages to the collector:
 *   { kind: 'ready', added, receiveBuffer } | { kind: 'unavailable', reason }
 *   { kind: 'facts', facts } | { kind: 'notice', notice } | { kind: 'stats', stats }
 * and from it: { kind: 'stop' } (answers with a last 'stats', then exits).
 */
const port = parentPort!;
const source = new KernelSource(
  workerData as SourceOptions,
  (facts) => port.postMessage({ kind: 'facts', facts }),
  (notice) => port.postMessage({ kind: 'notice', notice }),
);
const statsTimer = setInterval(() => port.postMessage({ kind: 'stats', stats: source.stats }), 1000);
port.on('message', (m: { kind: string }) => {
  if (m.kind !== 'stop') return;
  clearInterval(statsTimer);
  source.stop();
  port.postMessage({ kind: 'stats', stats: source.stats });
  port.close();
});
source.start().then(
  (r) => port.postMessage({ kind: 'ready', ...r }),
  (err: Error) => {
    clearInterval(statsTimer);
    port.postMessage({ kind: 'unavailable', reason: err.message });
    port.close();
  },
);
