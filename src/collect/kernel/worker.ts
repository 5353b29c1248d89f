import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { KernelSource } from './source';
import type { ReaderMessage, ReaderOptions } from './reader';

/**
 * The kernel source in a process of its own (reader.ts says why). Messages to the collector:
 *   { kind: 'ready', added, receiveBuffer } | { kind: 'unavailable', reason }
 *   { kind: 'facts', facts } | { kind: 'folded', windows } | { kind: 'notice', notice } | { kind: 'stats', stats }
 * and from it: { kind: 'start', opts } first, { kind: 'stop' } last (answers with a last 'stats', then exits).
 */
const send = (m: ReaderMessage): void => {
  if (process.connected) process.send!(m);
};

/** The last message, then the end: exit waits until the channel took it. */
function sendAndExit(m: ReaderMessage): void {
  if (!process.connected) process.exit(0);
  process.send!(m, undefined, {}, () => {
    process.disconnect();
    process.exit(0);
  });
}

function run(opts: ReaderOptions): void {
  // This thread only: on Linux setpriority(PRIO_PROCESS, tid) applies to one thread. A process that
  // lives a millisecond is read only if this thread runs at once, also while the host is busy.
  let tid = 0;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (opts.nice !== 0 && tid > 0) setPriority(tid, opts.nice);
  } catch (err) {
    send({ kind: 'notice', notice: { name: 'kernel.nice.failed', level: 'debug', message: `kernel process events: reader priority unchanged: ${(err as Error).message}` } });
  }
  const source = new KernelSource(
    opts,
    (facts) => send({ kind: 'facts', facts }),
    (notice) => {
      // With audit running, argv, executable and directory no longer race the exit: the raised
      // priority would only starve the main thread under an exec flood (M2: /health 1.4 s → 0.3 s).
      if (notice.name === 'audit.started' && opts.nice < 0 && tid > 0) {
        try {
          setPriority(tid, 5);
        } catch {
          // kept raised: a cost, not a failure
        }
      }
      send({ kind: 'notice', notice });
    },
    (windows) => send({ kind: 'folded', windows }),
  );
  const statsTimer = setInterval(() => send({ kind: 'stats', stats: source.stats }), 1000);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(statsTimer);
    // The audit rules come out before the process ends (audit/rules.ts remove).
    void source.stop().finally(() => sendAndExit({ kind: 'stats', stats: source.stats }));
  };
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'stop') stop();
  });
  // dockward is gone (killed, or crashed): take the rules out and go too.
  process.on('disconnect', stop);
  source.start().then(
    (r) => send({ kind: 'ready', ...r }),
    (err: Error) => {
      clearInterval(statsTimer);
      sendAndExit({ kind: 'unavailable', reason: err.message });
    },
  );
}

process.once('message', (m: { kind: string; opts?: ReaderOptions }) => {
  if (m.kind === 'start' && m.opts) run(m.opts);
  else process.exit(2);
});
